// redis_buckets_test.cpp - the rate limiter against a real redis-server on a loopback
// port: the same answers as the in-process limiter, one fleet-wide limit enforced exactly
// by two processes with four senders, a TTL on every key, the fallback to the local
// limiter while Redis is killed and back when it returns, and keys that cannot inject
// or collide.
#include "store/redis_buckets.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ratelimit/limiter.hpp"
#include "store/fallback_buckets.hpp"
#include "store/memory_buckets.hpp"
#include "support/matchers.hpp"
#include "support/redis_server.hpp"

namespace mailwarden::store {
namespace {

using mailwarden::testing::HasError;
using mailwarden::testing::RedisServer;
using mailwarden::testing::RespValue;
using ratelimit::Limiter;
using ratelimit::MessageFacts;
using ratelimit::Stage;
using util::ErrorCode;
using namespace std::chrono_literals;

// 2026-01-01T00:00:00Z, the instant scripted runs start from.
const util::SystemTime kStart{std::chrono::seconds{1767225600}};

RedisOptions options_for(const RedisServer& server, std::string prefix = "mw:") {
    RedisOptions o;
    o.port = server.port();
    o.prefix = std::move(prefix);
    o.connect_timeout = 200ms;
    o.command_timeout = 500ms;
    return o;
}

std::vector<std::string> all_keys(const RedisServer& server) {
    auto reply = server.command({"KEYS", "*"});
    std::vector<std::string> out;
    if (reply) {
        for (const auto& e : reply->elements) {
            out.push_back(e.text);
        }
    }
    return out;
}

ratelimit::Rule login_rule(std::string name, std::vector<ratelimit::Window> windows) {
    ratelimit::Rule r;
    r.name = std::move(name);
    r.key = {ratelimit::KeyPart::Login};
    r.windows = std::move(windows);
    return r;
}

MessageFacts from_login(std::string login) {
    MessageFacts f;
    f.login = std::move(login);
    f.sender = "someone@example.com";
    f.client_ip = *util::IpAddress::parse("192.0.2.1");
    f.recipients = {"rcpt@example.org"};
    return f;
}

class RedisBuckets : public ::testing::Test {
  protected:
    void SetUp() override { MW_START_REDIS_OR_SKIP(server_); }
    std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisBuckets, GiveTheSameAnswersAsTheMemoryLimiter) {
    RedisStore redis(options_for(*server_));
    RedisBucketStore shared(redis);
    MemoryBucketStore local;
    std::mt19937 rng(20261123);
    const std::int64_t limits[] = {1, 3, 10};
    const std::chrono::milliseconds periods[] = {10s, 1min, 1h};
    util::SystemTime now = kStart;
    int refused = 0;
    for (int step = 0; step < 1500; ++step) {
        std::vector<BucketRequest> requests;
        const int n = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < n; ++i) {
            // Few keys, so buckets fill; a key always has the same limit and period.
            const auto k = static_cast<std::size_t>(rng() % 6);
            requests.push_back(BucketRequest{fmt::format("t:k{}", k), limits[k % 3],
                                             periods[k / 2 % 3], 1 + static_cast<int>(rng() % 3)});
        }
        const bool peek = rng() % 5 == 0;
        if (peek) {
            auto a = local.peek(requests, now);
            auto b = shared.peek(requests, now);
            ASSERT_TRUE(a.has_value() && b.has_value()) << step;
            for (std::size_t i = 0; i < a->size(); ++i) {
                EXPECT_EQ((*a)[i].allowed, (*b)[i].allowed) << step;
                EXPECT_EQ((*a)[i].used, (*b)[i].used) << step;
                EXPECT_EQ((*a)[i].retry_after, (*b)[i].retry_after) << step;
            }
        } else {
            auto a = local.check_and_consume(requests, now);
            auto b = shared.check_and_consume(requests, now);
            ASSERT_TRUE(a.has_value()) << a.error().describe();
            ASSERT_TRUE(b.has_value()) << b.error().describe();
            EXPECT_EQ(b->source, "redis");
            ASSERT_EQ(a->allowed, b->allowed) << "step " << step;
            EXPECT_EQ(a->refused_index, b->refused_index) << step;
            EXPECT_EQ(a->used, b->used) << step;
            EXPECT_EQ(a->limit, b->limit) << step;
            EXPECT_EQ(a->retry_after, b->retry_after) << step;
            ASSERT_EQ(a->buckets.size(), b->buckets.size());
            for (std::size_t i = 0; i < a->buckets.size(); ++i) {
                EXPECT_EQ(a->buckets[i].allowed, b->buckets[i].allowed) << step << "/" << i;
                EXPECT_EQ(a->buckets[i].used, b->buckets[i].used) << step << "/" << i;
                EXPECT_EQ(a->buckets[i].retry_after, b->buckets[i].retry_after) << step;
                EXPECT_EQ(a->buckets[i].over_capacity, b->buckets[i].over_capacity) << step;
            }
            refused += a->allowed ? 0 : 1;
        }
        now += std::chrono::milliseconds(rng() % 3001);
    }
    EXPECT_GT(refused, 100);  // the script exercised refusals, not only the easy path
}

// Four senders in two processes (two threads each, one RedisStore and pool per sender)
// share one Redis; each tries 100 messages for the same login against 100/min. The
// caller supplies `now`: all use the run's start, so no unit comes back during the run.
TEST_F(RedisBuckets, TwoProcessesFourSendersGetExactlyTheFleetLimit) {
    constexpr int kSendersPerProcess = 2;
    constexpr int kAttempts = 100;
    const auto now = util::SystemTime{std::chrono::system_clock::now()};
    const auto port = server_->port();
    // Runs kSendersPerProcess senders; returns how many messages were accepted.
    const auto run_senders = [port, now]() {
        std::atomic<int> accepted{0};
        std::atomic<int> errors{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kSendersPerProcess; ++t) {
            threads.emplace_back([&] {
                RedisOptions o;
                o.port = port;
                o.pool_size = 2;
                RedisStore redis(o);
                RedisBucketStore buckets(redis);
                const Limiter limiter({login_rule("fleet", {{100, 1min}})}, buckets);
                for (int i = 0; i < kAttempts; ++i) {
                    auto r = limiter.check(from_login("alice"), Stage::EndOfMessage, now);
                    if (!r) {
                        errors.fetch_add(1);
                    } else if (r->allowed) {
                        accepted.fetch_add(1);
                    }
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        return errors.load() > 0 ? -1 : accepted.load();
    };

    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(fds[0]);
        const int accepted = run_senders();
        const auto written = ::write(fds[1], &accepted, sizeof accepted);
        ::_exit(written == sizeof accepted ? 0 : 1);
    }
    ::close(fds[1]);
    const int parent_accepted = run_senders();
    int child_accepted = -2;
    const auto got = ::read(fds[0], &child_accepted, sizeof child_accepted);  // bounded: the
    ::close(fds[0]);  // child's pool times out every command, so it exits or closes the pipe
    int status = 0;
    for (int i = 0; i < 300 && ::waitpid(child, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(100ms);
    }
    if (::waitpid(child, &status, WNOHANG) == 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        FAIL() << "the second process did not finish within 30 s";
    }
    ASSERT_EQ(got, static_cast<ssize_t>(sizeof child_accepted));
    ASSERT_GE(parent_accepted, 0) << "store errors in this process";
    ASSERT_GE(child_accepted, 0) << "store errors in the other process";
    EXPECT_EQ(parent_accepted + child_accepted, 100)
        << "this process " << parent_accepted << ", the other " << child_accepted;
    EXPECT_GT(parent_accepted, 0);
    EXPECT_GT(child_accepted, 0);
}

TEST_F(RedisBuckets, EveryKeyHasATtlNoLongerThanItsWindow) {
    RedisStore redis(options_for(*server_));
    RedisBucketStore buckets(redis);
    auto rcpt_rule = login_rule("rcpt", {{50, 1h}});
    rcpt_rule.counts = ratelimit::Counts::Recipients;
    auto ip_rule = login_rule("ip", {{100, 1min}, {1000, 24h}});
    ip_rule.key = {ratelimit::KeyPart::ClientPrefix};
    const Limiter limiter({login_rule("login", {{30, 1min}, {500, 24h}}), rcpt_rule, ip_rule},
                          buckets);
    const auto now = std::chrono::system_clock::now();
    for (int i = 0; i < 20; ++i) {
        auto f = from_login(fmt::format("user{}", i));
        ASSERT_TRUE(limiter.check(f, Stage::Recipient, now).has_value());
        ASSERT_TRUE(limiter.check(f, Stage::EndOfMessage, now).has_value());
    }
    const auto keys = all_keys(*server_);
    EXPECT_EQ(keys.size(), 20u * 2 + 20 + 2);  // login x2 windows, rcpt, one /24 x2 windows
    for (const auto& key : keys) {
        EXPECT_THAT(key, ::testing::StartsWith("mw:rl:"));
        auto ttl = server_->command({"PTTL", key});
        ASSERT_TRUE(ttl.has_value());
        EXPECT_GT(ttl->integer, 0) << key;
        const auto window_ms = key.find(":1m:") != std::string::npos   ? 60'000
                               : key.find(":1h:") != std::string::npos ? 3'600'000
                                                                       : 86'400'000;
        EXPECT_LE(ttl->integer, window_ms) << key;
    }
    auto ip_key = server_->command({"GET", "mw:rl:ip:1m:192.0.2.0/24"});
    ASSERT_TRUE(ip_key.has_value());
    EXPECT_EQ(ip_key->type, RespValue::Type::Bulk);  // the readable key of the /24
}

TEST_F(RedisBuckets, PeekWritesNothingAndScriptsSurviveAFlush) {
    RedisStore redis(options_for(*server_));
    RedisBucketStore buckets(redis);
    const std::vector<BucketRequest> req = {BucketRequest{"p:1m:alice", 2, 1min, 1}};
    const auto now = std::chrono::system_clock::now();
    for (int i = 0; i < 5; ++i) {
        auto usage = buckets.peek(req, now);
        ASSERT_TRUE(usage.has_value()) << usage.error().describe();
        EXPECT_TRUE((*usage)[0].allowed);
    }
    EXPECT_TRUE(all_keys(*server_).empty());
    ASSERT_TRUE(buckets.check_and_consume(req, now)->allowed);
    ASSERT_TRUE(server_->command({"SCRIPT", "FLUSH"}).has_value());
    auto out = buckets.check_and_consume(req, now);  // NOSCRIPT: loaded again
    ASSERT_TRUE(out.has_value()) << out.error().describe();
    EXPECT_TRUE(out->allowed);
    EXPECT_FALSE(buckets.check_and_consume(req, now)->allowed);

    // A key of another type is a script failure, reported and not charged.
    ASSERT_TRUE(server_->command({"LPUSH", "mw:rl:p:1m:list", "x"}).has_value());
    const std::vector<BucketRequest> wrong = {BucketRequest{"p:1m:list", 2, 1min, 1}};
    EXPECT_THAT(buckets.check_and_consume(wrong, now), HasError(ErrorCode::PermFailure));
}

TEST_F(RedisBuckets, KilledRedisFallsBackToTheLocalLimiterAndComesBack) {
    RedisStore redis(options_for(*server_));
    RedisBucketStore shared(redis);
    FallbackBucketStore buckets(shared, FallbackBucketOptions{200ms, {}});
    const Limiter limiter({login_rule("out", {{5, 1min}})}, buckets);
    const auto f = from_login("bob");

    auto r = limiter.check(f, Stage::EndOfMessage, std::chrono::system_clock::now());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->source, "redis");
    EXPECT_TRUE(r->allowed);

    server_->kill();
    int local_allowed = 0;
    for (int i = 0; i < 8; ++i) {
        r = limiter.check(f, Stage::EndOfMessage, std::chrono::system_clock::now());
        ASSERT_TRUE(r.has_value()) << r.error().describe();  // always an answer
        EXPECT_EQ(r->source, "local");
        local_allowed += r->allowed ? 1 : 0;
    }
    EXPECT_EQ(local_allowed, 5);  // the local limiter enforces the same rule
    EXPECT_TRUE(buckets.degraded());

    ASSERT_TRUE(server_->restart().has_value());
    bool back = false;
    for (int i = 0; i < 50 && !back; ++i) {  // at most 50 x 100 ms
        std::this_thread::sleep_for(100ms);
        r = limiter.check(f, Stage::EndOfMessage, std::chrono::system_clock::now());
        ASSERT_TRUE(r.has_value());
        back = r->source == "redis";
    }
    EXPECT_TRUE(back) << "still on the local limiter after Redis came back";
    EXPECT_FALSE(buckets.degraded());
    EXPECT_TRUE(r->allowed);  // the restarted Redis is empty (no persistence)
}

TEST_F(RedisBuckets, HostileKeysCannotInjectOrCollide) {
    RedisStore redis(options_for(*server_));
    RedisBucketStore buckets(redis);
    ASSERT_TRUE(server_->command({"SET", "k", "victim"}).has_value());
    ASSERT_TRUE(server_->command({"SET", "mw:k", "victim"}).has_value());
    const Limiter limiter({login_rule("out", {{2, 1min}})}, buckets);
    const std::vector<std::string> logins = {
        "x\r\n*3\r\n$3\r\nDEL\r\n$1\r\nk\r\n",
        "x\r\n*2\r\n$3\r\nDEL\r\n$4\r\nmw:k\r\n",
        "x\r\n*1\r\n$8\r\nFLUSHALL\r\n",
        std::string(4096, 'a'),
        std::string(4095, 'a'),
        std::string(4096, 'a') + "\r\n",
        "a",
        "out:1m:a",
        "*",
        "x y",
    };
    const auto now = std::chrono::system_clock::now();
    for (const auto& login : logins) {
        for (int i = 0; i < 3; ++i) {
            auto r = limiter.check(from_login(login), Stage::EndOfMessage, now);
            ASSERT_TRUE(r.has_value()) << r.error().describe();
            // Each login has its own bucket: exactly two pass for each.
            EXPECT_EQ(r->allowed, i < 2) << "login of " << login.size() << " bytes, try " << i;
        }
    }
    EXPECT_EQ(server_->command({"GET", "k"})->text, "victim");
    EXPECT_EQ(server_->command({"GET", "mw:k"})->text, "victim");
    const auto keys = all_keys(*server_);
    std::set<std::string> rl_keys;
    for (const auto& key : keys) {
        if (key == "k" || key == "mw:k") {
            continue;
        }
        EXPECT_THAT(key, ::testing::StartsWith("mw:rl:out:1m:"));
        EXPECT_LE(key.size(), 6 + kMaxBucketKeyBytes);
        for (char c : key) {
            EXPECT_TRUE(c > 0x20 && c < 0x7f) << "byte " << static_cast<int>(c) << " in " << key;
        }
        rl_keys.insert(key);
    }
    EXPECT_EQ(rl_keys.size(), logins.size());
}

}  // namespace
}  // namespace mailwarden::store
