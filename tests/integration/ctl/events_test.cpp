// events_test.cpp - `mailwardenctl events` against a real daemon: the embedded store read
// through the daemon's control API, and Redis read directly (a real redis-server).
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
using namespace std::chrono_literals;

constexpr std::string_view kConfig = R"(listen: "inet:@PORT@@127.0.0.1"
store: @STORE@
events: { journal: @DIR@/events.journal, flush_interval: 50ms }
spf: { enabled: false }
dkim: { enabled: false }
dmarc: { enabled: false }
preflight: { enabled: false }
control: { listen: "127.0.0.1:@CONTROL@" }
access_list:
  - sender: ["blocked@remote.test"]
    action: reject
    reply: "Mail from this sender is refused by policy."
  - recipient: ["noone@local.test"]
    action: reject
    enhanced: "5.1.1"
    reply: "No such user here"
)";

// Sends one message from `sender` to `rcpts` and returns the final action's name.
std::string send(Daemon& daemon, const std::string& sender, std::vector<std::string> rcpts) {
    auto client = daemon.connect();
    EXPECT_TRUE(client.has_value()) << (client ? "" : client.error().message);
    if (!client) {
        return "";
    }
    ConnectInfo info;
    PostfixMacros macros = PostfixMacros::defaults(info);
    EXPECT_TRUE(client->connect_stage(info, macros.connect).has_value());
    EXPECT_TRUE(client->helo("client.remote.test", macros.helo).has_value());
    MessageSpec m;
    m.mail_args = {"<" + sender + ">"};
    for (auto& r : rcpts) {
        m.rcpts.push_back({"<" + r + ">"});
    }
    m.headers = {{"From", sender}, {"Subject", "ctl test"}};
    m.body = "hello\r\n";
    auto r = client->send_message(m, macros);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r->final_action() : "";
}

nlohmann::json ctl_events(Daemon& daemon, std::vector<std::string> filters) {
    std::vector<std::string> args{"-c", daemon.config_path().string(), "events", "--json"};
    args.insert(args.end(), filters.begin(), filters.end());
    auto r = run(command(ctl_binary(), args));
    EXPECT_TRUE(r.has_value());
    if (!r || r->status != 0) {
        ADD_FAILURE() << "mailwardenctl failed: " << (r ? r->output : r.error().message);
        return nlohmann::json::array();
    }
    auto json = nlohmann::json::parse(r->output, nullptr, false);
    EXPECT_TRUE(json.is_array()) << r->output;
    return json;
}

// Polls (bounded) until `count` events are visible: recording is asynchronous by design.
nlohmann::json wait_for_events(Daemon& daemon, std::size_t count) {
    nlohmann::json events = nlohmann::json::array();
    for (int i = 0; i < 50 && events.size() < count; ++i) {
        events = ctl_events(daemon, {});
        if (events.size() < count) {
            std::this_thread::sleep_for(100ms);
        }
    }
    return events;
}

void exercise(Daemon& daemon) {
    EXPECT_EQ(send(daemon, "blocked@remote.test", {"bob@local.test"}), "reject");
    EXPECT_EQ(send(daemon, "alice@remote.test", {"noone@local.test", "bob@local.test"}), "accept");
    const auto events = wait_for_events(daemon, 2);
    ASSERT_EQ(events.size(), 2u) << events.dump(2);
    // Newest first: the recipient refusal, then the sender refusal.
    EXPECT_EQ(events[0]["stage"], "rcpt");
    EXPECT_EQ(events[0]["enhanced_code"], "5.1.1");
    EXPECT_EQ(events[0]["recipients"], nlohmann::json::array({"noone@local.test"}));
    EXPECT_EQ(events[1]["sender"], "blocked@remote.test");
    EXPECT_EQ(events[1]["reply_code"], 550);
    EXPECT_EQ(events[1]["check"], "access_list");
    EXPECT_EQ(events[1]["action"], "reject");
    EXPECT_EQ(events[1]["reply_text"], "Mail from this sender is refused by policy.");

    EXPECT_EQ(ctl_events(daemon, {"--sender", "blocked@remote.test"}).size(), 1u);
    EXPECT_EQ(ctl_events(daemon, {"--code", "5.1"}).size(), 1u);
    EXPECT_EQ(ctl_events(daemon, {"--code", "550"}).size(), 2u);
    EXPECT_EQ(ctl_events(daemon, {"--sender", "nobody@x.test"}).size(), 0u);
    EXPECT_EQ(ctl_events(daemon, {"--since", "1h"}).size(), 2u);
    EXPECT_EQ(ctl_events(daemon, {"-n", "1"}).size(), 1u);

    auto table = run(command(ctl_binary(), {"-c", daemon.config_path().string(), "events"}));
    ASSERT_TRUE(table.has_value());
    EXPECT_EQ(table->status, 0) << table->output;
    EXPECT_THAT(table->output, HasSubstr("blocked@remote.test"));
    EXPECT_THAT(table->output, HasSubstr("550 5.1.1"));
}

TEST(CtlEvents, ReadsTheEmbeddedStoreThroughTheControlApi) {
    Daemon::Options options;
    options.vars = {{"@STORE@", "{ backend: memory }"},
                    {"@CONTROL@", std::to_string(free_tcp_port())}};
    auto daemon = Daemon::start(kConfig, options);
    ASSERT_TRUE(daemon.has_value()) << daemon.error().message;
    exercise(**daemon);
}

TEST(CtlEvents, ReadsRedis) {
    if (!find_redis_server()) {
        GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)";
    }
    auto redis = RedisServer::start();
    ASSERT_TRUE(redis.has_value()) << redis.error().message;
    Daemon::Options options;
    options.vars = {{"@STORE@", "{ backend: redis, redis: { host: 127.0.0.1, port: " +
                                    std::to_string((*redis)->port()) + " } }"},
                    {"@CONTROL@", std::to_string(free_tcp_port())}};
    auto daemon = Daemon::start(kConfig, options);
    ASSERT_TRUE(daemon.has_value()) << daemon.error().message;
    exercise(**daemon);
    // The events are in Redis itself, not only in the daemon.
    auto len = (*redis)->command({"XLEN", "mw:events"});
    ASSERT_TRUE(len.has_value());
    EXPECT_EQ(len->integer, 2);
}

TEST(CtlEvents, ExplainsWhenTheDaemonIsNotRunning) {
    TempDir dir("mw-ctl");
    const auto cfg = dir.write(
        "c.yaml", "control: { listen: \"127.0.0.1:" + std::to_string(free_tcp_port()) + "\" }\n");
    auto r = run(command(ctl_binary(), {"-c", cfg.string(), "events"}));
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->status, 0);
    EXPECT_THAT(r->output, HasSubstr("is mailwarden running"));
}

}  // namespace
}  // namespace mailwarden::testing
