// redis_accounts_test.cpp - RedisAccountStore against a real redis-server on a free loopback
// port: the AccountStore contract (the same figures as MemoryAccountStore), a TTL on every
// key it writes, one script run per message, and logins that cannot reach other keys.
#include "store/redis_accounts.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "integration/store/redis_account_backend.hpp"
#include "store/keys.hpp"
#include "support/redis_server.hpp"
#include "unit/store/account_contract.hpp"

namespace mailwarden::store {
namespace {

using account_contract::message_to;
using account_contract::start_time;
using mailwarden::testing::IsOk;
using mailwarden::testing::RedisServer;
using namespace std::chrono_literals;

}  // namespace

namespace account_contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, AccountStoreContract, RedisAccountBackend);
}

namespace {

class RedisAccounts : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!mailwarden::testing::find_redis_server()) {
            GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)";
        }
        auto started = RedisServer::start();
        ASSERT_TRUE(started) << started.error().describe();
        server_ = std::move(*started);
        RedisOptions o;
        o.port = server_->port();
        redis_ = std::make_unique<RedisStore>(o);
        accounts_ = std::make_unique<RedisAccountStore>(*redis_);
    }
    std::vector<std::string> keys() const {
        std::vector<std::string> out;
        if (auto r = server_->command({"KEYS", "*"})) {
            for (const auto& e : r->elements) {
                out.push_back(e.text);
            }
        }
        return out;
    }
    long long info_count(const std::string& field) const {
        auto r = server_->command({"INFO", "commandstats"});
        if (!r) {
            return -1;
        }
        const auto at = r->text.find("cmdstat_" + field + ":calls=");
        if (at == std::string::npos) {
            return 0;
        }
        return std::stoll(r->text.substr(at + field.size() + 15));
    }

    std::unique_ptr<RedisServer> server_;
    std::unique_ptr<RedisStore> redis_;
    std::unique_ptr<RedisAccountStore> accounts_;
    AccountTracking tracking_;
};

TEST_F(RedisAccounts, EveryKeyWrittenHasATtl) {
    const auto t0 = start_time();
    ASSERT_THAT(accounts_->record("alice", message_to({1, 2}, "192.0.2.1"), tracking_, t0), IsOk());
    HoldInfo h{"detector", "test", t0, 5, "{}"};
    ASSERT_THAT(accounts_->hold("bob", h, tracking_, t0), IsOk());
    const auto all = keys();
    EXPECT_THAT(all, ::testing::UnorderedElementsAre("mw:acct:alice", "mw:acct:bob", "mw:held",
                                                     "mw:login_of:alice@example.com"));
    for (const auto& key : all) {
        auto ttl = server_->command({"PTTL", key});
        ASSERT_TRUE(ttl);
        EXPECT_GT(ttl->integer, 0) << key;
    }
    auto ttl = server_->command({"PTTL", "mw:acct:alice"});
    ASSERT_TRUE(ttl);
    EXPECT_LE(ttl->integer, tracking_.idle_ttl.count());
}

TEST_F(RedisAccounts, OneMessageIsOneScriptRun) {
    const auto t0 = start_time();
    ASSERT_THAT(accounts_->record("warmup", message_to({1}, "192.0.2.1"), tracking_, t0), IsOk());
    const auto before = info_count("evalsha");
    ASSERT_THAT(accounts_->record("alice", message_to({1, 2, 3, 4}, "192.0.2.1"), tracking_, t0),
                IsOk());
    EXPECT_EQ(info_count("evalsha"), before + 1);
}

TEST_F(RedisAccounts, ALoginCannotNameAnotherKey) {
    const auto t0 = start_time();
    // A login shaped like another key family, and one of 4 KB of odd bytes.
    ASSERT_THAT(accounts_->record("x mw:held", message_to({1}, "192.0.2.1"), tracking_, t0),
                IsOk());
    ASSERT_THAT(
        accounts_->record(std::string(1000, '\x01'), message_to({1}, "192.0.2.1"), tracking_, t0),
        IsOk());
    for (const auto& key : keys()) {
        EXPECT_TRUE(key.starts_with("mw:acct:") || key.starts_with("mw:login_of:")) << key;
        EXPECT_LE(key.size(), 220u) << key;
    }
    auto type = server_->command({"TYPE", "mw:held"});
    ASSERT_TRUE(type);
    EXPECT_EQ(type->text, "none");
}

}  // namespace
}  // namespace mailwarden::store
