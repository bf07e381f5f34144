// ratelimit_milter_test.cpp - rate limits in the real daemon, driven by the milter client:
// messages counted at end of message, recipients at RCPT, the plain-language reply, the
// event, and two daemons (two processes, as two MTAs) sharing one Redis and one limit.
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_fixture.hpp"
#include "support/milter_client.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kConfig = R"(listen: "inet:@PORT@@127.0.0.1"
store: @STORE@
events: { journal: @DIR@/events.journal, flush_interval: 50ms }
spf: { enabled: false }
dkim: { enabled: false }
dmarc: { enabled: false }
preflight: { enabled: false }
control: { listen: "127.0.0.1:@CONTROL@" }
ratelimit:
  rules:
    - name: per-login
      key: login
      counts: messages
      limits: ["3/1m"]
      scope: outbound
      action: tempfail
    - name: rcpts-per-login
      key: login
      counts: recipients
      limits: ["6/1h"]
      scope: outbound
      action: reject
)";

std::unique_ptr<Daemon> start(const std::string& store) {
    Daemon::Options options;
    options.vars = {{"@STORE@", store}, {"@CONTROL@", std::to_string(free_tcp_port())}};
    auto d = Daemon::start(kConfig, options);
    EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
    return d ? std::move(*d) : nullptr;
}

MessageResult send(Daemon& daemon, const std::string& login, std::vector<std::string> rcpts) {
    auto client = daemon.connect();
    EXPECT_TRUE(client.has_value());
    if (!client) {
        return {};
    }
    ConnectInfo info;
    auto macros = PostfixMacros::defaults(info);
    EXPECT_TRUE(client->connect_stage(info, macros.connect).has_value());
    EXPECT_TRUE(client->helo("client.local.test", macros.helo).has_value());
    MessageSpec m;
    m.mail_args = {"<" + login + ">"};
    m.auth_login = login;
    m.rcpts.clear();
    for (const auto& r : rcpts) {
        m.rcpts.push_back({"<" + r + ">"});
    }
    auto r = client->send_message(m, macros);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : MessageResult{};
}

TEST(RateLimitMilter, FourthMessageInAMinuteIsTempfailedWithAPlainReply) {
    auto daemon = start("{ backend: memory }");
    ASSERT_TRUE(daemon);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(send(*daemon, "alice@local.test", {"friend@remote.test"}).final_action(),
                  "accept")
            << "message " << i + 1;
    }
    const auto fourth = send(*daemon, "alice@local.test", {"friend@remote.test"});
    EXPECT_EQ(fourth.final_action(), "tempfail");
    EXPECT_THAT(fourth.decisive.text, StartsWith("451 4.7.1"));
    EXPECT_THAT(fourth.decisive.text, HasSubstr("3 messages"));
    EXPECT_THAT(fourth.decisive.text, HasSubstr("per minute"));
    EXPECT_THAT(fourth.decisive.text, HasSubstr("Try again after"));
    // Another login has its own budget.
    EXPECT_EQ(send(*daemon, "bob@local.test", {"friend@remote.test"}).final_action(), "accept");

    // Recording is asynchronous by design: poll (bounded) until the event is visible.
    nlohmann::json events = nlohmann::json::array();
    for (int i = 0; i < 50 && events.empty(); ++i) {
        auto r = run(command(ctl_binary(), {"-c", daemon->config_path().string(), "events",
                                            "--json", "--login", "alice@local.test"}));
        ASSERT_TRUE(r.has_value());
        events = nlohmann::json::parse(r->output, nullptr, false);
        ASSERT_TRUE(events.is_array()) << r->output;
        if (events.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    ASSERT_GE(events.size(), 1u);
    EXPECT_EQ(events[0]["check"], "ratelimit");
    EXPECT_THAT(events[0]["reason"].get<std::string>(), HasSubstr("rule=per-login"));
    EXPECT_THAT(events[0]["reason"].get<std::string>(), HasSubstr("used=3"));
}

TEST(RateLimitMilter, RecipientsAreCountedAtRcptAndRefusedOnesAreNotCharged) {
    auto daemon = start("{ backend: memory }");
    ASSERT_TRUE(daemon);
    const auto r = send(*daemon, "carol@local.test",
                        {"a@remote.test", "b@remote.test", "c@remote.test", "d@remote.test",
                         "e@remote.test", "f@remote.test", "g@remote.test", "h@remote.test"});
    ASSERT_EQ(r.rcpt_replies.size(), 8u);
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(r.rcpt_replies[i].code(), 0)
            << "recipient " << i + 1 << ": " << r.rcpt_replies[i].text;
    }
    EXPECT_THAT(r.rcpt_replies[6].text, StartsWith("550 5.7.1"));
    EXPECT_THAT(r.rcpt_replies[7].text, StartsWith("550 5.7.1"));
    EXPECT_EQ(r.final_action(), "accept") << "the six accepted recipients still get the mail";
}

TEST(RateLimitMilter, TwoDaemonsSharingOneRedisEnforceOneLimit) {
    if (!find_redis_server()) {
        GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)";
    }
    auto redis = RedisServer::start();
    ASSERT_TRUE(redis.has_value()) << redis.error().message;
    const std::string store =
        "{ backend: redis, redis: { host: 127.0.0.1, port: " + std::to_string((*redis)->port()) +
        " } }";
    auto a = start(store);
    auto b = start(store);
    ASSERT_TRUE(a && b);
    int accepted = 0;
    for (int i = 0; i < 8; ++i) {
        Daemon& d = i % 2 == 0 ? *a : *b;
        if (send(d, "dave@local.test", {"x@remote.test"}).final_action() == "accept") {
            ++accepted;
        }
    }
    EXPECT_EQ(accepted, 3) << "3/1m across both daemons";
    auto keys = (*redis)->command({"KEYS", "mw:rl:*"});
    ASSERT_TRUE(keys.has_value());
    ASSERT_FALSE(keys->elements.empty());
    for (const auto& key : keys->elements) {
        auto ttl = (*redis)->command({"PTTL", key.text});
        ASSERT_TRUE(ttl.has_value());
        EXPECT_GT(ttl->integer, 0) << key.text << " has no TTL";
    }
}

TEST(RateLimitMilter, ABadRuleStopsStartUpNamingTheRuleAndWhereItIs) {
    TempDir dir("mw-rl-bad");
    const auto cfg = dir.write("c.yaml",
                               "ratelimit:\n  rules:\n    - name: ok\n      limits: [\"30/1m\"]\n"
                               "    - name: broken\n      limits: [\"30/1fortnight\"]\n");
    auto r = run(command(daemon_binary(), {"-c", cfg.string(), "--check-config"}));
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->status, 0);
    EXPECT_THAT(r->output, HasSubstr("c.yaml:5:7"));
    EXPECT_THAT(r->output, HasSubstr("ratelimit rule 'broken'"));
}

}  // namespace
}  // namespace mailwarden::testing
