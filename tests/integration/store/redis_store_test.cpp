// redis_store_test.cpp - RedisStore against a real redis-server on a free loopback port:
// the Store contract, TTLs and caps on every key, key safety, timeouts, reconnect, the
// pool bound, scripts, AUTH and SELECT.
#include "store/redis_store.hpp"

#include <hiredis/hiredis.h>

#include <atomic>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/keys.hpp"
#include "support/ports.hpp"
#include "support/redis_server.hpp"
#include "unit/store/store_contract.hpp"

namespace mailwarden::store {
namespace {

using contract::base_time;
using contract::queue_ids;
using contract::sample_event;
using mailwarden::testing::HasError;
using mailwarden::testing::IsOk;
using mailwarden::testing::RedisServer;
using mailwarden::testing::RespValue;
using util::ErrorCode;
using namespace std::chrono_literals;

// One server for the whole contract suite; each test gets its own key prefix.
struct RedisBackend {
    static inline std::unique_ptr<RedisServer> server;
    static inline std::string start_error;
    static inline int next_prefix = 0;

    static std::optional<std::string> skip_reason() {
        if (!mailwarden::testing::find_redis_server()) {
            return "redis-server is not installed (apt-get install redis-server)";
        }
        return std::nullopt;
    }
    static void set_up_suite() {
        if (skip_reason()) {
            return;
        }
        auto started = RedisServer::start();
        if (started) {
            server = std::move(*started);
        } else {
            start_error = started.error().describe();
        }
    }
    static void tear_down_suite() { server.reset(); }

    std::shared_ptr<Store> make(std::shared_ptr<const util::Clock>) {
        if (!server) {
            ADD_FAILURE() << "redis-server did not start: " << start_error;
            return nullptr;
        }
        RedisOptions options;
        options.port = server->port();
        options.prefix = fmt::format("contract{}:", ++next_prefix);
        return std::make_shared<RedisStore>(options);
    }
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, StoreContract, RedisBackend);
}

namespace {

std::vector<std::string> strings(const RespValue& array) {
    std::vector<std::string> out;
    for (const auto& e : array.elements) {
        out.push_back(e.text);
    }
    return out;
}

class RedisStoreTest : public ::testing::Test {
  protected:
    void SetUp() override { MW_START_REDIS_OR_SKIP(server_); }

    RedisOptions options() const {
        RedisOptions o;
        o.port = server_->port();
        o.connect_timeout = 500ms;
        o.command_timeout = 500ms;
        return o;
    }
    RespValue redis(const std::vector<std::string>& argv) const {
        auto reply = server_->command(argv);
        EXPECT_TRUE(reply.has_value()) << reply.error().describe();
        return reply ? *reply : RespValue{};
    }
    std::vector<std::string> all_keys() const {
        auto keys = strings(redis({"KEYS", "*"}));
        std::sort(keys.begin(), keys.end());
        return keys;
    }

    std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisStoreTest, EveryKeyWrittenHasATtl) {
    RedisStore store(options());
    std::vector<Event> in;
    for (int i = 0; i < 6; ++i) {
        in.push_back(sample_event(i, std::chrono::minutes{50 * i}));
    }
    ASSERT_THAT(store.append_events(in), IsOk());
    const auto keys = all_keys();
    // events, 5 hours of counters (minutes 0 and 50, 100, 150, 200, 250), 3 senders
    EXPECT_EQ(keys.size(), 1u + 5u + 3u) << ::testing::PrintToString(keys);
    for (const auto& key : keys) {
        SCOPED_TRACE(key);
        EXPECT_TRUE(key.starts_with("mw:"));
        const auto ttl = redis({"TTL", key});
        EXPECT_GT(ttl.integer, 35 * 24 * 3600 - 60);
        EXPECT_LE(ttl.integer, 35 * 24 * 3600);
    }
    EXPECT_EQ(redis({"HGET", "mw:codes:2026010100", "5.7.1"}).text, "2");
    EXPECT_EQ(redis({"TYPE", "mw:events"}).text, "stream");
    EXPECT_EQ(redis({"XLEN", "mw:sender:sender1@example.org"}).integer, 2);
}

TEST_F(RedisStoreTest, OutgoingFailureKeysAllHaveATtl) {
    RedisStore store(options());
    const Event failure = contract::failure_event(1, "userunknown", "bob@example.org");
    ASSERT_THAT(store.append_events(std::span<const Event>(&failure, 1)), IsOk());
    const auto keys = all_keys();
    const std::vector<std::string> want = {
        "mw:codes:2026010100",
        "mw:events",
        "mw:fail:count:category:2026010100",
        "mw:fail:count:code:2026010100",
        "mw:fail:count:domain:2026010100",
        "mw:fail:count:host:2026010100",
        "mw:fail:recent:domain:example.org",
        "mw:fail:recent:login:alice",
        "mw:fail:recent:sender:alice@example.com",
        "mw:sender:alice@example.com",
    };
    EXPECT_EQ(keys, want);
    for (const auto& key : keys) {
        SCOPED_TRACE(key);
        EXPECT_GT(redis({"TTL", key}).integer, 0);
    }
    EXPECT_EQ(redis({"HGET", "mw:fail:count:category:2026010100", "userunknown"}).text, "1");
    EXPECT_EQ(redis({"TYPE", "mw:fail:recent:login:alice"}).text, "list");
}

TEST_F(RedisStoreTest, StreamsAreCappedWithMaxlen) {
    auto o = options();
    o.stream_maxlen = 50;
    o.sender_stream_maxlen = 10;
    RedisStore store(o);
    for (int batch = 0; batch < 20; ++batch) {
        std::vector<Event> in;
        for (int i = 0; i < 100; ++i) {
            Event e = sample_event(batch * 100 + i);
            e.sender = "same@example.org";
            in.push_back(e);
        }
        ASSERT_THAT(store.append_events(in), IsOk());
    }
    // MAXLEN ~ trims whole stream nodes (stream-node-max-entries, 100 by default)
    const auto events_len = redis({"XLEN", "mw:events"}).integer;
    EXPECT_GE(events_len, 50);
    EXPECT_LE(events_len, 50 + 100);
    const auto sender_len = redis({"XLEN", "mw:sender:same@example.org"}).integer;
    EXPECT_GE(sender_len, 10);
    EXPECT_LE(sender_len, 10 + 100);
    // the newest survive
    EventQuery q;
    q.limit = 1;
    auto newest = store.query_events(q);
    ASSERT_THAT(newest, IsOk());
    EXPECT_EQ(queue_ids(*newest), (std::vector<std::string>{"Q1999"}));
}

TEST_F(RedisStoreTest, OddSendersCannotInjectOrCollide) {
    redis({"SET", "victim", "still here"});
    RedisStore store(options());
    const std::string senders[] = {
        "a@x\r\n*1\r\n$8\r\nFLUSHALL\r\n",
        "b@x\r\nDEL victim\r\n",
        std::string(4096, 'z') + "@x",
        std::string(4096, 'z') + "@y",
        "#" + std::string(32, '0'),
        std::string("nul\0@x", 6),
        "C@X",
        "c@x",  // same sender as "C@X": addresses compare case-insensitively
    };
    std::vector<Event> in;
    int n = 0;
    for (const auto& s : senders) {
        Event e = sample_event(n++);
        e.sender = s;
        in.push_back(e);
    }
    ASSERT_THAT(store.append_events(in), IsOk());
    EXPECT_EQ(redis({"GET", "victim"}).text, "still here");
    std::set<std::string> sender_keys;
    for (const auto& key : all_keys()) {
        if (key == "victim" || key == "mw:events" || key.starts_with("mw:codes:")) {
            continue;
        }
        SCOPED_TRACE(key);
        EXPECT_TRUE(key.starts_with("mw:sender:"));
        EXPECT_LE(key.size(), std::string("mw:sender:").size() + kMaxKeyPartBytes);
        EXPECT_EQ(key.find_first_of(std::string("\r\n \0", 4)), std::string::npos);
        sender_keys.insert(key);
    }
    EXPECT_EQ(sender_keys.size(), std::size(senders) - 1);
    EXPECT_EQ(redis({"XLEN", "mw:sender:c@x"}).integer, 2);
    EXPECT_EQ(redis({"XLEN", "mw:events"}).integer, static_cast<long long>(std::size(senders)));
}

TEST_F(RedisStoreTest, ReconnectsAfterRedisIsKilledAndRestarted) {
    RedisStore store(options());
    ASSERT_THAT(store.ping(), IsOk());
    ASSERT_THAT(store.append_events(std::vector<Event>{sample_event(1)}), IsOk());

    server_->kill();
    const auto started = std::chrono::steady_clock::now();
    EXPECT_THAT(store.append_events(std::vector<Event>{sample_event(2)}),
                HasError(ErrorCode::Unavailable));
    EXPECT_THAT(store.ping(), HasError(ErrorCode::Unavailable));
    EXPECT_THAT(store.query_events({}), HasError(ErrorCode::Unavailable));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);

    ASSERT_TRUE(server_->restart().has_value());
    EXPECT_THAT(store.ping(), IsOk());
    ASSERT_THAT(store.append_events(std::vector<Event>{sample_event(3)}), IsOk());
    auto out = store.query_events({});
    ASSERT_THAT(out, IsOk());
    EXPECT_EQ(queue_ids(*out), (std::vector<std::string>{"Q3"}));  // no persistence
}

TEST_F(RedisStoreTest, AConnectionPooledBeforeARestartIsReplacedBeforeUse) {
    RedisStore store(options());
    ASSERT_THAT(store.ping(), IsOk());
    EXPECT_EQ(store.pool().open_connections(), 1u);
    ASSERT_TRUE(server_->restart().has_value());  // the pooled connection is now dead
    // a non-idempotent append must not be lost on the stale connection
    ASSERT_THAT(store.append_events(std::vector<Event>{sample_event(1)}), IsOk());
    EXPECT_EQ(redis({"XLEN", "mw:events"}).integer, 1);
}

TEST_F(RedisStoreTest, RefusedConnectionIsUnavailable) {
    auto o = options();
    o.port = mailwarden::testing::free_tcp_port();
    RedisStore store(o);
    EXPECT_THAT(store.ping(), HasError(ErrorCode::Unavailable));
    EXPECT_THAT(store.append_events(std::vector<Event>{sample_event(1)}),
                HasError(ErrorCode::Unavailable));
    EXPECT_EQ(store.pool().open_connections(), 0u);
}

TEST_F(RedisStoreTest, ASilentServerGivesTimeoutWithinTheCommandTimeout) {
    auto o = options();
    o.command_timeout = 200ms;
    o.pool_size = 1;
    RedisStore store(o);
    ASSERT_THAT(store.ping(), IsOk());
    server_->pause();
    const auto started = std::chrono::steady_clock::now();
    util::Result<void> first, second;
    std::thread other([&] { second = store.ping(); });
    first = store.append_events(std::vector<Event>{sample_event(1)});
    other.join();
    server_->resume();
    EXPECT_THAT(first, HasError(ErrorCode::Timeout));
    EXPECT_THAT(second, HasError(ErrorCode::Timeout));  // waited for the only connection
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
    EXPECT_THAT(store.ping(), IsOk());  // the timed-out connection was replaced
}

TEST_F(RedisStoreTest, PoolStaysBoundedUnderManyThreads) {
    auto o = options();
    o.pool_size = 3;
    o.command_timeout = 2s;
    RedisStore store(o);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                if (!store.append_events(std::vector<Event>{sample_event(t * 100 + i)})) {
                    ++failures;
                }
                EXPECT_LE(store.pool().open_connections(), 3u);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_LE(store.pool().open_connections(), 3u);
    EXPECT_EQ(redis({"XLEN", "mw:events"}).integer, 16 * 20);
}

constexpr Script kEchoScript{"test_echo", R"(-- KEYS[1]: any key; ARGV[1]: any value
-- returns {KEYS[1], ARGV[1]}
return {KEYS[1], ARGV[1]})"};
constexpr Script kFailingScript{"test_fail", "return redis.error_reply('nope')"};

TEST_F(RedisStoreTest, RunsScriptsBySha1AndReloadsAfterNoscript) {
    RedisStore store(options());
    const std::vector<std::string> keys = {store.keys().prefix() + "k"};
    const std::vector<std::string> args = {"v\r\n"};
    for (int round = 0; round < 2; ++round) {
        SCOPED_TRACE(round);
        auto reply = store.run_script(kEchoScript, keys, args);
        ASSERT_THAT(reply, IsOk());
        ASSERT_EQ((*reply)->type, REDIS_REPLY_ARRAY);
        ASSERT_EQ((*reply)->elements, 2u);
        EXPECT_EQ(std::string((*reply)->element[0]->str, (*reply)->element[0]->len), "mw:k");
        EXPECT_EQ(std::string((*reply)->element[1]->str, (*reply)->element[1]->len), "v\r\n");
        redis({"SCRIPT", "FLUSH"});  // as after a Redis restart
    }
    EXPECT_THAT(store.run_script(kFailingScript, {}, {}), HasError(ErrorCode::PermFailure));
}

TEST_F(RedisStoreTest, AuthenticatesAndSelectsTheDatabase) {
    redis({"CONFIG", "SET", "requirepass", "s3cret"});
    server_->set_password("s3cret");
    auto o = options();
    o.password = "wrong";
    EXPECT_THAT(RedisStore(o).ping(), HasError(ErrorCode::Unavailable));
    o.password = "s3cret";
    o.db = 2;
    RedisStore store(o);
    ASSERT_THAT(store.append_events(std::vector<Event>{sample_event(1)}), IsOk());
    EXPECT_EQ(redis({"EXISTS", "mw:events"}).integer, 0);  // not in db 0
    redis({"SWAPDB", "0", "2"});
    EXPECT_EQ(redis({"XLEN", "mw:events"}).integer, 1);
}

}  // namespace
}  // namespace mailwarden::store
