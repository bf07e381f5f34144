// postfix_test.cpp - mailwarden behind a private, real Postfix: mail sent over SMTP, the
// access list's reply as the SMTP client sees it, the header on delivered mail, and the
// reject event in Redis. Each test starts redis-server, the daemon (Redis store) and
// Postfix on free loopback ports, and stops them whatever happens.
#include <unistd.h>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_fixture.hpp"
#include "support/postfix_instance.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/smtp_client.hpp"
#include "util/version.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::string_view kConfig = R"(listen: "inet:@PORT@@127.0.0.1"
store: { backend: redis, redis: { host: 127.0.0.1, port: @REDIS_PORT@ } }
events: { journal: @DIR@/events.journal }
spf: { enabled: false }
dkim: { enabled: false }
dmarc: { enabled: false }
preflight: { enabled: false }
control: { enabled: false }
access_list:
  - sender: ["blocked@remote.test", "@blocked.test"]
    action: reject
    reply: "Mail from this sender is refused by policy.\nContact postmaster@local.test if this is wrong."
  - recipient: ["noone@local.test"]
    action: reject
    code: 550
    enhanced: "5.1.1"
    reply: "No such user here"
  - client: ["192.0.2.66/32"]
    action: tempfail
)";

// Every string inside a RESP value (stream entries are nested arrays).
void collect(const RespValue& v, std::string& out) {
    out += v.text;
    out += '\n';
    for (const auto& e : v.elements) {
        collect(e, out);
    }
}

class PostfixTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (auto reason = postfix_unavailable_reason()) {
            GTEST_SKIP() << "end-to-end test skipped: " << *reason;
        }
        MW_START_REDIS_OR_SKIP(redis_);
        Daemon::Options options;
        options.vars = {{"@REDIS_PORT@", std::to_string(redis_->port())}};
        auto d = Daemon::start(kConfig, options);
        ASSERT_TRUE(d.has_value()) << d.error().message;
        daemon_ = std::move(*d);
        PostfixOptions po;
        po.milter = "inet:127.0.0.1:" + std::to_string(daemon_->port());
        po.sink_rules = "unknown RCPT 550 5.1.1 No such user at the remote end\n";
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
        postfix_.reset();  // Postfix before the milter it talks to
        daemon_.reset();
        redis_.reset();
    }

    SmtpClient smtp(std::uint16_t port) {
        auto c = SmtpClient::connect(port);
        EXPECT_TRUE(c.has_value()) << c.error().message;
        if (!c) {
            throw std::runtime_error(c.error().message);
        }
        auto ehlo = c->ehlo();
        EXPECT_TRUE(ehlo && ehlo->code == 250);
        return std::move(*c);
    }

    // The mw:events stream as text, once it contains `needle` (bounded wait).
    std::string wait_for_event(std::string_view needle) {
        std::string all;
        for (int i = 0; i < 100; ++i) {
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

TEST_F(PostfixTest, BlockedSenderGetsTheConfiguredReplyAndTheEventIsInRedis) {
    auto c = smtp(postfix_->smtp_port());
    auto t = c.send("blocked@remote.test", {"bob@local.test"},
                    make_message("blocked@remote.test", "bob@local.test", "blocked"));
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->mail.code, 550);
    EXPECT_THAT(t->mail.lines,
                ElementsAre("550-5.7.1 Mail from this sender is refused by policy.",
                            "550 5.7.1 Contact postmaster@local.test if this is wrong."));
    EXPECT_FALSE(t->data_sent);

    // Domain rule, over the same SMTP connection.
    auto t2 = c.send("someone@blocked.test", {"bob@local.test"},
                     make_message("someone@blocked.test", "bob@local.test", "blocked domain"));
    ASSERT_TRUE(t2.has_value()) << t2.error().message;
    EXPECT_EQ(t2->mail.text(), t->mail.text());

    const std::string events = wait_for_event("blocked@remote.test");
    EXPECT_THAT(events, HasSubstr("blocked@remote.test")) << "XRANGE mw:events:\n" << events;
    EXPECT_THAT(events, HasSubstr("5.7.1"));

    // mailwardenctl reads the same events from the configured store.
    auto ctl = run(
        command(ctl_binary(), {"-c", daemon_->config_path().string(), "events", "--json"}), 30s);
    ASSERT_TRUE(ctl.has_value()) << ctl.error().message;
    EXPECT_EQ(ctl->status, 0) << ctl->output;
    EXPECT_THAT(ctl->output, HasSubstr("blocked@remote.test"));
}

TEST_F(PostfixTest, AcceptedMessageArrivesWithTheHeader) {
    const std::string subject = "e2e accepted " + std::to_string(::getpid());
    auto c = smtp(postfix_->smtp_port());
    auto t = c.send("alice@remote.test", {"bob@local.test"},
                    make_message("alice@remote.test", "bob@local.test", subject));
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->mail.code, 250) << t->mail.text();
    ASSERT_EQ(t->rcpts.size(), 1u);
    EXPECT_EQ(t->rcpts[0].code, 250) << t->rcpts[0].text();
    EXPECT_EQ(t->end_of_data.code, 250) << t->end_of_data.text();

    const auto mail = postfix_->wait_for_mail("bob", subject);
    ASSERT_TRUE(mail.has_value()) << "not delivered to bob's Maildir";
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*mail, m, std::regex(R"(\nX-Mailwarden: (\S+) ([^;\n]*);)")))
        << *mail;
    EXPECT_THAT(m[2].str(), HasSubstr(kVersion)) << "the header names the version";
}

TEST_F(PostfixTest, RecipientRuleRefusesOneRecipientOfTwo) {
    const std::string subject = "e2e two recipients " + std::to_string(::getpid());
    auto c = smtp(postfix_->smtp_port());
    auto t = c.send("alice@remote.test", {"noone@local.test", "carol@local.test"},
                    make_message("alice@remote.test", "carol@local.test", subject));
    ASSERT_TRUE(t.has_value()) << t.error().message;
    ASSERT_EQ(t->rcpts.size(), 2u);
    EXPECT_EQ(t->rcpts[0].text(), "550 5.1.1 No such user here");
    EXPECT_EQ(t->rcpts[1].code, 250) << t->rcpts[1].text();
    EXPECT_EQ(t->end_of_data.code, 250) << t->end_of_data.text();
    const auto mail = postfix_->wait_for_mail("carol", subject);
    ASSERT_TRUE(mail.has_value());
    EXPECT_THAT(*mail, HasSubstr("X-Mailwarden: "));
    EXPECT_FALSE(postfix_->wait_for_mail("catchall", subject, 1s).has_value());
}

TEST_F(PostfixTest, AuthenticatedSubmissionToARemoteDomain) {
    const std::string subject = "e2e submission " + std::to_string(::getpid());
    auto c = smtp(postfix_->submission_port());
    auto auth = c.auth_plain("alice@local.test", "alicepass");
    ASSERT_TRUE(auth.has_value()) << auth.error().message;
    ASSERT_EQ(auth->code, 235) << auth->text();
    auto t = c.send("alice@local.test", {"friend@remote.test"},
                    make_message("alice@local.test", "friend@remote.test", subject));
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->end_of_data.code, 250) << t->end_of_data.text();
    const auto mail = postfix_->wait_for_sink_mail(subject);
    ASSERT_TRUE(mail.has_value()) << "not relayed to the sink";
    EXPECT_THAT(*mail, HasSubstr("X-Mailwarden: "));
}

TEST_F(PostfixTest, ClientRuleTempfailsThroughXclient) {
    auto c = smtp(postfix_->smtp_port());
    auto x = c.command("XCLIENT ADDR=192.0.2.66 NAME=[UNAVAILABLE] REVERSE_NAME=[UNAVAILABLE]");
    ASSERT_TRUE(x.has_value()) << x.error().message;
    ASSERT_EQ(x->code, 220) << x->text();
    ASSERT_TRUE(c.ehlo().has_value());
    auto t = c.send("alice@remote.test", {"bob@local.test"},
                    make_message("alice@remote.test", "bob@local.test", "from a bad client"));
    if (!t.has_value()) {
        // A connect-stage tempfail: Postfix answers 421 and may close the session.
        SUCCEED() << t.error().message;
        return;
    }
    const int code = t->mail.code / 100 == 2 && !t->rcpts.empty() ? t->rcpts[0].code : t->mail.code;
    EXPECT_EQ(code / 100, 4) << t->mail.text();
}

}  // namespace
}  // namespace mailwarden::testing
