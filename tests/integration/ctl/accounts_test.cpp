// accounts_test.cpp - `mailwardenctl limits / override / accounts / hold / release` against a
// real daemon fed through the milter protocol: the embedded store reached through the
// control API's admin routes, and a real redis-server read and written directly. The
// detector holds a login in the daemon; release prints the postsuper -H of its held mail.
#include <httplib.h>

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "milter/control_admin.hpp"
#include "support/daemon_fixture.hpp"
#include "support/milter_client.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace mailwarden::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// The detector is tuned to hold after 5 messages in the window (volume alone scores 4).
constexpr std::string_view kConfig = R"(listen: "inet:@PORT@@127.0.0.1"
store: @STORE@
events: { journal: @DIR@/events.journal, flush_interval: 50ms }
spf: { enabled: false }
dkim: { enabled: false }
dmarc: { enabled: false }
preflight: { enabled: false }
control: { listen: "127.0.0.1:@CONTROL@" }
ratelimit:
  override_refresh: 100ms
  rules:
    - name: outbound-login
      key: login
      limits: ["10/1m"]
accounts:
  enabled: true
  action: quarantine
  hold_score: 4
  signals:
    volume: { min: 5, multiple: 1, floor: 1, points: 4 }
)";

// One authenticated message from `login` with queue id `qid`; the final action's name.
std::string send(Daemon& daemon, const std::string& login, const std::string& qid) {
    auto client = daemon.connect();
    EXPECT_TRUE(client.has_value()) << (client ? "" : client.error().message);
    if (!client) {
        return "";
    }
    ConnectInfo info;
    PostfixMacros macros = PostfixMacros::defaults(info, qid);
    EXPECT_TRUE(client->connect_stage(info, macros.connect).has_value());
    EXPECT_TRUE(client->helo("client.example.com", macros.helo).has_value());
    MessageSpec m;
    m.mail_args = {"<" + login + ">"};
    m.rcpts = {{"<bob@remote.test>"}};
    m.headers = {{"From", login}, {"Subject", "accounts test"}};
    m.auth_login = login;
    m.queue_id = qid;
    auto r = client->send_message(m, macros);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r->final_action() : "";
}

RunResult ctl(Daemon& daemon, std::vector<std::string> args) {
    args.insert(args.begin(), {"-c", daemon.config_path().string()});
    auto r = run(command(ctl_binary(), args));
    EXPECT_TRUE(r.has_value());
    return r ? *r : RunResult{};
}

json ctl_json(Daemon& daemon, std::vector<std::string> args) {
    args.push_back("--json");
    auto r = ctl(daemon, args);
    EXPECT_EQ(r.status, 0) << r.output;
    auto j = json::parse(r.output, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.output;
    return j;
}

// Polls (bounded) until the event of queue id `qid` is visible (recording is asynchronous).
bool wait_for_event(Daemon& daemon, const std::string& qid) {
    for (int i = 0; i < 50; ++i) {
        auto events = ctl_json(daemon, {"events", "--queue-id", qid});
        if (events.is_array() && !events.empty()) {
            return true;
        }
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

void exercise(Daemon& daemon) {
    // limits: the rule and its usage; the next message would pass.
    auto before = ctl_json(daemon, {"limits", "alice@example.com"});
    ASSERT_EQ(before["limits"].size(), 1u) << before.dump(2);
    EXPECT_EQ(before["limits"][0]["rule"], "outbound-login");
    EXPECT_EQ(before["limits"][0]["used"], 0);
    EXPECT_EQ(before["allowed"], true);
    EXPECT_EQ(send(daemon, "alice@example.com", "4A01"), "accept");
    EXPECT_EQ(send(daemon, "alice@example.com", "4A02"), "accept");
    auto used = ctl_json(daemon, {"limits", "alice@example.com"});
    EXPECT_EQ(used["limits"][0]["used"], 2) << used.dump(2);

    // override: the login gets its own limit, seen by limits and by the daemon.
    auto set = ctl(daemon, {"override", "alice@example.com", "outbound-login", "2/1m"});
    EXPECT_EQ(set.status, 0) << set.output;
    auto listed = ctl(daemon, {"override", "--list"});
    EXPECT_THAT(listed.output, HasSubstr("outbound-login"));
    EXPECT_THAT(listed.output, HasSubstr("2/1m"));
    auto bad = ctl(daemon, {"override", "alice@example.com", "no-such-rule", "3/1m"});
    EXPECT_NE(bad.status, 0);
    EXPECT_THAT(bad.output, HasSubstr("no rate-limit rule named no-such-rule"));
    std::this_thread::sleep_for(300ms);  // the daemon reloads overrides every 100 ms
    auto over = ctl_json(daemon, {"limits", "alice@example.com"});
    EXPECT_EQ(over["limits"][0]["limit"], 2) << over.dump(2);
    EXPECT_EQ(send(daemon, "alice@example.com", "4A03"), "accept");
    EXPECT_EQ(send(daemon, "alice@example.com", "4A04"), "tempfail")
        << "2 per minute now (GCRA: the earlier sends count in time)";
    auto dry = ctl(daemon, {"limits", "alice@example.com", "--dry-run"});
    EXPECT_EQ(dry.status, 0);
    EXPECT_THAT(dry.output, HasSubstr("next message: tempfail by rule outbound-login"));
    EXPECT_THAT(dry.output, HasSubstr("451 4.7.1"));
    EXPECT_EQ(ctl(daemon, {"override", "alice@example.com", "outbound-login", "--clear"}).status,
              0);

    // The detector: carol's 5th message in the window holds her; the 6th is held too.
    for (int i = 1; i <= 4; ++i) {
        EXPECT_EQ(send(daemon, "carol@example.com", "4C0" + std::to_string(i)), "accept");
    }
    EXPECT_EQ(send(daemon, "carol@example.com", "4C05"), "quarantine");
    EXPECT_EQ(send(daemon, "carol@example.com", "4C06"), "quarantine");
    auto held = ctl_json(daemon, {"accounts"});
    ASSERT_EQ(held.size(), 1u) << held.dump(2);
    EXPECT_EQ(held[0]["login"], "carol@example.com");
    EXPECT_EQ(held[0]["hold"]["by"], "detector");
    EXPECT_THAT(held[0]["hold"]["reason"].get<std::string>(), HasSubstr("5 messages this hour"));
    EXPECT_EQ(held[0]["hold"]["figures"]["signals"]["volume"]["value"], 5.0);
    auto table = ctl(daemon, {"accounts"});
    EXPECT_THAT(table.output, HasSubstr("carol@example.com"));
    EXPECT_THAT(table.output, HasSubstr("detector"));
    auto carol = ctl(daemon, {"limits", "carol@example.com", "--dry-run"});
    EXPECT_THAT(carol.output, HasSubstr("next message: quarantined: the login is held"));

    // release: mail flows again, and the postsuper -H of the held queue ids is printed.
    ASSERT_TRUE(wait_for_event(daemon, "4C06"));
    auto released = ctl(daemon, {"release", "carol@example.com"});
    EXPECT_EQ(released.status, 0) << released.output;
    EXPECT_THAT(released.output, HasSubstr("released carol@example.com"));
    EXPECT_THAT(released.output, HasSubstr("postsuper -H 4C05"));
    EXPECT_THAT(released.output, HasSubstr("postsuper -H 4C06"));
    EXPECT_THAT(released.output, ::testing::Not(HasSubstr("4C04")));
    EXPECT_EQ(ctl_json(daemon, {"accounts"}).size(), 0u);
    EXPECT_EQ(send(daemon, "carol@example.com", "4C07"), "accept") << "grace after a release";

    // hold by hand, then the daemon quarantines; release --json reports it.
    auto hold = ctl(daemon, {"hold", "dave@example.com", "--reason", "password phished"});
    EXPECT_EQ(hold.status, 0) << hold.output;
    EXPECT_THAT(hold.output, HasSubstr("is now held"));
    EXPECT_EQ(send(daemon, "dave@example.com", "4D01"), "quarantine");
    ASSERT_TRUE(wait_for_event(daemon, "4D01"));
    auto report = ctl_json(daemon, {"release", "dave@example.com"});
    EXPECT_EQ(report["released"], true);
    EXPECT_EQ(report["hold"]["reason"], "password phished");
    EXPECT_THAT(report["hold"]["by"].get<std::string>(), HasSubstr("admin:"));
    EXPECT_EQ(report["queue_ids"], json::array({"4D01"}));
    EXPECT_EQ(report["commands"][0]["command"], "postsuper -H 4D01");
    auto again = ctl(daemon, {"release", "dave@example.com"});
    EXPECT_THAT(again.output, HasSubstr("was not held"));
}

Daemon::Options options_with(std::string store) {
    Daemon::Options options;
    options.vars = {{"@STORE@", std::move(store)}, {"@CONTROL@", std::to_string(free_tcp_port())}};
    return options;
}

TEST(CtlAccounts, EmbeddedStoreThroughTheControlApi) {
    auto options = options_with("{ backend: memory }");
    const auto control_port = options.vars.back().second;
    auto daemon = Daemon::start(kConfig, options);
    ASSERT_TRUE(daemon.has_value()) << daemon.error().message;
    exercise(**daemon);

    // The admin routes change nothing for a body that is not JSON (no cross-site form post).
    httplib::Client client("127.0.0.1", std::stoi(control_port));
    auto form = client.Post("/v1/accounts/hold", "login=eve", "application/x-www-form-urlencoded");
    ASSERT_TRUE(form);
    EXPECT_EQ(form->status, 415);
    auto get = client.Get("/v1/account?login=eve");
    ASSERT_TRUE(get);
    EXPECT_EQ(get->body, "null");
}

// A hard bounce that comes back for a login's envelope sender counts in that login's
// account (the bounce check feeds the detector through the sender -> login memory).
TEST(CtlAccounts, AHardBounceCountsForTheLoginThatSentTheMail) {
    auto daemon = Daemon::start(kConfig, options_with("{ backend: memory }"));
    ASSERT_TRUE(daemon.has_value()) << daemon.error().message;
    EXPECT_EQ(send(**daemon, "erin@example.com", "4E01"), "accept");
    auto before = ctl_json(**daemon, {"limits", "erin@example.com"});
    ASSERT_TRUE(before.contains("account")) << before.dump(2);
    EXPECT_EQ(before["account"]["window"]["bounces"], 0);

    auto client = (*daemon)->connect();
    ASSERT_TRUE(client.has_value()) << client.error().message;
    ConnectInfo info;
    info.hostname = "mx.remote.test";
    info.address = "192.0.2.25";
    PostfixMacros macros = PostfixMacros::defaults(info, "4E02");
    ASSERT_TRUE(client->connect_stage(info, macros.connect).has_value());
    ASSERT_TRUE(client->helo("mx.remote.test", macros.helo).has_value());
    MessageSpec dsn;
    dsn.mail_args = {"<>"};
    dsn.rcpts = {{"<erin@example.com>"}};
    dsn.headers = {
        {"From", "MAILER-DAEMON@mx.remote.test"},
        {"To", "erin@example.com"},
        {"Subject", "Undelivered Mail Returned to Sender"},
        {"MIME-Version", "1.0"},
        {"Content-Type", "multipart/report; report-type=delivery-status; boundary=\"B\""}};
    dsn.body =
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; "
        "mx.remote.test\r\n\r\nFinal-Recipient: rfc822; nobody@remote.test\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.remote.test\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <nobody@remote.test>: User unknown\r\n\r\n"
        "--B--\r\n";
    dsn.queue_id = "4E02";
    auto result = client->send_message(dsn, macros);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_NE(result->final_action(), "reject");

    auto after = ctl_json(**daemon, {"limits", "erin@example.com"});
    EXPECT_EQ(after["account"]["window"]["bounces"], 1) << after.dump(2);
}

TEST(CtlAccounts, RedisDirectly) {
    if (!find_redis_server()) {
        GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)";
    }
    auto redis = RedisServer::start();
    ASSERT_TRUE(redis.has_value()) << redis.error().message;
    auto daemon =
        Daemon::start(kConfig, options_with("{ backend: redis, redis: { host: 127.0.0.1, port: " +
                                            std::to_string((*redis)->port()) + " } }"));
    ASSERT_TRUE(daemon.has_value()) << daemon.error().message;
    exercise(**daemon);
    auto ttl = (*redis)->command({"PTTL", "mw:acct:carol@example.com"});
    ASSERT_TRUE(ttl.has_value());
    EXPECT_GT(ttl->integer, 0);
}

TEST(ControlAdmin, OnlyLoopbackAddressesMayChangeState) {
    EXPECT_TRUE(mailwarden::milter::is_loopback_address("127.0.0.1"));
    EXPECT_TRUE(mailwarden::milter::is_loopback_address("127.8.9.10"));
    EXPECT_TRUE(mailwarden::milter::is_loopback_address("::1"));
    EXPECT_TRUE(mailwarden::milter::is_loopback_address("::ffff:127.0.0.1"));
    EXPECT_FALSE(mailwarden::milter::is_loopback_address("192.0.2.1"));
    EXPECT_FALSE(mailwarden::milter::is_loopback_address("::ffff:192.0.2.1"));
    EXPECT_FALSE(mailwarden::milter::is_loopback_address("2001:db8::1"));
    EXPECT_FALSE(mailwarden::milter::is_loopback_address(""));
}

}  // namespace
}  // namespace mailwarden::testing
