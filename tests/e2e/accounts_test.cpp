// accounts_test.cpp - rate limits and held logins through a private, real Postfix: a SASL
// login over its limit gets 451 4.7.1 with the explanation over SMTP; a login held with
// mailwardenctl has its message accepted into Postfix's hold queue (postqueue -j shows it
// held) and not delivered, until `mailwardenctl release --run` sends it on.
#include <unistd.h>

#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_fixture.hpp"
#include "support/ports.hpp"
#include "support/postfix_instance.hpp"
#include "support/process.hpp"
#include "support/smtp_client.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::string_view kConfig = R"(listen: "inet:@PORT@@127.0.0.1"
store: { backend: memory }
events: { journal: @DIR@/events.journal, flush_interval: 50ms }
spf: { enabled: false }
dkim: { enabled: false }
dmarc: { enabled: false }
preflight: { enabled: false }
control: { listen: "127.0.0.1:@CONTROL@" }
ratelimit:
  rules:
    - name: outbound-login
      key: login
      limits: ["2/1h"]
      exempt: { logins: [bob@local.test] }
accounts:
  enabled: true
  action: quarantine
)";

class AccountsPostfixTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (auto reason = postfix_unavailable_reason()) {
            GTEST_SKIP() << "end-to-end test skipped: " << *reason;
        }
        Daemon::Options options;
        options.vars = {{"@CONTROL@", std::to_string(free_tcp_port())}};
        auto d = Daemon::start(kConfig, options);
        ASSERT_TRUE(d.has_value()) << d.error().message;
        daemon_ = std::move(*d);
        PostfixOptions po;
        po.milter = "inet:127.0.0.1:" + std::to_string(daemon_->port());
        auto pf = PostfixInstance::start(po);
        ASSERT_TRUE(pf.has_value()) << pf.error().message;
        postfix_ = std::move(*pf);
    }
    void TearDown() override {
        if (HasFailure()) {
            if (postfix_) {
                std::cerr << "---- maillog\n" << postfix_->maillog();
            }
            if (daemon_) {
                std::cerr << "---- daemon log\n" << daemon_->log();
            }
        }
        postfix_.reset();
        daemon_.reset();
    }

    // An authenticated submission of one message; its end-of-data reply.
    SmtpReply submit(const std::string& user, const std::string& password,
                     const std::string& subject) {
        auto c = SmtpClient::connect(postfix_->submission_port());
        EXPECT_TRUE(c.has_value());
        if (!c) {
            return {};
        }
        EXPECT_TRUE(c->ehlo().has_value());
        auto auth = c->auth_plain(user, password);
        EXPECT_TRUE(auth.has_value() && auth->code == 235);
        auto t = c->send(user, {"friend@remote.test"},
                         make_message(user, "friend@remote.test", subject));
        EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message);
        return t ? t->end_of_data : SmtpReply{};
    }

    RunResult ctl(std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", daemon_->config_path().string()});
        auto r = run(command(ctl_binary(), args));
        EXPECT_TRUE(r.has_value());
        return r ? *r : RunResult{};
    }

    // The messages in Postfix's hold queue (postqueue -j), as JSON lines.
    std::vector<nlohmann::json> held_messages() {
        auto r = run(command("/usr/sbin/postqueue", {"-c", postfix_->config_dir().string(), "-j"}));
        std::vector<nlohmann::json> out;
        if (!r) {
            ADD_FAILURE() << "postqueue: " << r.error().message;
            return out;
        }
        last_postqueue_ = r->output;
        std::size_t start = 0;
        while (start < r->output.size()) {
            auto end = r->output.find('\n', start);
            auto line = r->output.substr(start, end == std::string::npos ? end : end - start);
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_object() && j.value("queue_name", "") == "hold") {
                out.push_back(j);
            }
            if (end == std::string::npos) {
                break;
            }
            start = end + 1;
        }
        return out;
    }

    std::unique_ptr<Daemon> daemon_;
    std::unique_ptr<PostfixInstance> postfix_;
    std::string last_postqueue_;
};

TEST_F(AccountsPostfixTest, ALoginOverItsLimitGetsTheExplainedTempfail) {
    const std::string tag = std::to_string(::getpid());
    EXPECT_EQ(submit("alice@local.test", "alicepass", "limit 1 " + tag).code, 250);
    EXPECT_EQ(submit("alice@local.test", "alicepass", "limit 2 " + tag).code, 250);
    const auto third = submit("alice@local.test", "alicepass", "limit 3 " + tag);
    EXPECT_EQ(third.code, 451) << third.text();
    EXPECT_THAT(third.text(), HasSubstr("4.7.1"));
    EXPECT_THAT(third.text(), HasSubstr("You have sent 2 messages in the last hour; the limit "
                                        "for your account is 2 per hour. Try again after"));
}

TEST_F(AccountsPostfixTest, AHeldLoginsMessageWaitsInTheHoldQueueUntilReleased) {
    auto hold = ctl({"hold", "bob@local.test", "--reason", "e2e"});
    ASSERT_EQ(hold.status, 0) << hold.output;
    const std::string subject = "held " + std::to_string(::getpid());
    EXPECT_EQ(submit("bob@local.test", "bobpass", subject).code, 250);
    std::vector<nlohmann::json> held;
    for (int i = 0; i < 50 && held.empty(); ++i) {
        held = held_messages();
        if (held.empty()) {
            std::this_thread::sleep_for(100ms);
        }
    }
    ASSERT_EQ(held.size(), 1u) << "postqueue -j shows no held message: " << last_postqueue_;
    const auto queue_id = held[0].value("queue_id", "");
    EXPECT_FALSE(postfix_->wait_for_sink_mail(subject, 2s).has_value()) << "delivered";
    // The event carries the queue id: release finds it and runs postsuper -H.
    std::string events;
    for (int i = 0; i < 50 && events.find(queue_id) == std::string::npos; ++i) {
        events = ctl({"events", "--login", "bob@local.test", "--json"}).output;
        std::this_thread::sleep_for(100ms);
    }
    auto released = ctl({"release", "bob@local.test", "--run", "--postfix-config",
                         postfix_->config_dir().string()});
    EXPECT_EQ(released.status, 0) << released.output;
    EXPECT_THAT(released.output, HasSubstr("postsuper -c " + postfix_->config_dir().string() +
                                           " -H " + queue_id + "  -> ok"));
    EXPECT_TRUE(postfix_->wait_for_sink_mail(subject).has_value()) << "not delivered after release";
}

}  // namespace
}  // namespace mailwarden::testing
