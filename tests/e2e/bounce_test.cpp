// bounce_test.cpp - a real Postfix bounce through mailwarden: alice submits mail to a
// recipient the scripted remote MTA refuses with "550 5.1.1 ... does not exist"; Postfix
// bounces it through non_smtpd_milters; the bounce in alice's Maildir starts with our
// explanation for that recipient, the original DSN is intact below it, and the
// outgoing-failure event is in Redis with category userunknown. An access rule that would
// reject every null-sender message shows that a bounce is never refused.
#include <unistd.h>

#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dsn/report.hpp"
#include "support/daemon_fixture.hpp"
#include "support/paths.hpp"
#include "support/postfix_instance.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/smtp_client.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::string_view kConfig = R"yaml(listen: "inet:@PORT@@127.0.0.1"
store: { backend: redis, redis: { host: 127.0.0.1, port: @REDIS_PORT@ } }
events: { journal: @DIR@/events.journal, flush_interval: 50ms }
spf: { enabled: false }
dkim: { enabled: false }
dmarc: { enabled: false }
preflight: { enabled: false }
control: { enabled: false }
bounce: { catalog: "@CATALOG@" }
access_list:
  - sender: ["<>"]
    action: reject
    reply: "No null-sender mail here (a bounce must pass anyway)"
)yaml";

void collect(const RespValue& v, std::string& out) {
    out += v.text;
    out += '\n';
    for (const auto& e : v.elements) {
        collect(e, out);
    }
}

class BounceE2eTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (auto reason = postfix_unavailable_reason()) {
            GTEST_SKIP() << "end-to-end test skipped: " << *reason;
        }
        MW_START_REDIS_OR_SKIP(redis_);
        Daemon::Options options;
        options.vars = {{"@REDIS_PORT@", std::to_string(redis_->port())},
                        {"@CATALOG@", (source_dir() / "conf" / "explanations.yaml").string()}};
        auto d = Daemon::start(kConfig, options);
        ASSERT_TRUE(d.has_value()) << d.error().message;
        daemon_ = std::move(*d);
        PostfixOptions po;
        po.milter =
            "{ inet:127.0.0.1:" + std::to_string(daemon_->port()) + ", default_action=accept }";
        po.sink_rules =
            "unknown RCPT 550 5.1.1 The email account that you tried to reach does not exist\n";
        auto pf = PostfixInstance::start(po);
        ASSERT_TRUE(pf.has_value()) << pf.error().message;
        postfix_ = std::move(*pf);
    }

    void TearDown() override {
        if (HasFailure()) {
            if (postfix_) {
                std::cerr << "---- maillog\n"
                          << postfix_->maillog() << "---- sink\n"
                          << postfix_->sink_log();
            }
            if (daemon_) {
                std::cerr << "---- daemon log\n" << daemon_->log();
            }
        }
        postfix_.reset();
        daemon_.reset();
        redis_.reset();
    }

    std::string wait_for_event(std::string_view needle) {
        std::string all;
        for (int i = 0; i < 150; ++i) {
            auto r = redis_->command({"XRANGE", "mw:events", "-", "+"});
            all.clear();
            if (r) {
                collect(*r, all);
            }
            if (all.find(needle) != std::string::npos) {
                break;
            }
            std::this_thread::sleep_for(100ms);
        }
        return all;
    }

    std::unique_ptr<RedisServer> redis_;
    std::unique_ptr<Daemon> daemon_;
    std::unique_ptr<PostfixInstance> postfix_;
};

TEST_F(BounceE2eTest, PostfixBounceStartsWithOurExplanationAndKeepsTheReport) {
    const std::string subject = "e2e bounce " + std::to_string(::getpid());
    auto c = SmtpClient::connect(postfix_->submission_port());
    ASSERT_TRUE(c.has_value()) << c.error().message;
    ASSERT_TRUE(c->ehlo().has_value());
    auto auth = c->auth_plain("alice@local.test", "alicepass");
    ASSERT_TRUE(auth.has_value()) << auth.error().message;
    ASSERT_EQ(auth->code, 235) << auth->text();
    auto t = c->send("alice@local.test", {"unknown@remote.test"},
                     make_message("alice@local.test", "unknown@remote.test", subject));
    ASSERT_TRUE(t.has_value()) << t.error().message;
    ASSERT_EQ(t->end_of_data.code, 250) << t->end_of_data.text();

    // Postfix bounces to alice; the bounce passes the milter (non_smtpd_milters).
    const auto mail = postfix_->wait_for_mail("alice", "unknown@remote.test", 60s);
    ASSERT_TRUE(mail.has_value()) << "no bounce in alice's Maildir";
    const std::string& m = *mail;
    EXPECT_THAT(m, HasSubstr("X-Mailwarden-Explanation: userunknown"));
    const auto ours = m.find("Why your message was not delivered");
    const auto recipient = m.find("* unknown@remote.test", ours);
    const auto postfix_text = m.find("This is the mail system at host");
    const auto report = m.find("Content-Type: message/delivery-status");
    ASSERT_NE(ours, std::string::npos) << m;
    ASSERT_NE(recipient, std::string::npos) << m;
    ASSERT_NE(postfix_text, std::string::npos) << m;
    ASSERT_NE(report, std::string::npos) << m;
    EXPECT_LT(ours, postfix_text) << "our explanation comes first";
    EXPECT_LT(postfix_text, report);
    EXPECT_THAT(m, HasSubstr("Content-Type: multipart/report; report-type=delivery-status;"));
    EXPECT_THAT(m, HasSubstr("Final-Recipient: rfc822; unknown@remote.test"));
    EXPECT_THAT(m, HasSubstr("Status: 5.1.1"));
    EXPECT_THAT(m, HasSubstr("Subject: " + subject));

    // Still a report for a machine: parsed as RFC 3464 with the same recipient and code.
    auto parsed = dsn::parse_dsn(m);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().describe();
    EXPECT_EQ(parsed->format, dsn::ReportFormat::DeliveryStatus);
    ASSERT_EQ(parsed->recipients.size(), 1u);
    EXPECT_EQ(parsed->recipients[0].final_recipient, "unknown@remote.test");
    EXPECT_EQ(parsed->recipients[0].status, "5.1.1");

    const std::string events = wait_for_event("outgoing_failure");
    EXPECT_THAT(events, HasSubstr("outgoing_failure")) << events;
    EXPECT_THAT(events, HasSubstr("userunknown"));
    EXPECT_THAT(events, HasSubstr("unknown@remote.test"));
    EXPECT_THAT(events, HasSubstr("alice@local.test"));
    EXPECT_THAT(postfix_->maillog(), ::testing::Not(HasSubstr("bounce failed")));
    // The access rule did want to refuse the bounce; it was let through.
    EXPECT_THAT(daemon_->log(), HasSubstr("not refusing a delivery report"));
}

}  // namespace
}  // namespace mailwarden::testing
