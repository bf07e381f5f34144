// memory_accounts_test.cpp - MemoryAccountStore: the AccountStore contract, plus its own
// bounds (expiry by caller time, the cap on accounts).
#include "store/memory_accounts.hpp"

#include <gtest/gtest.h>

#include "unit/store/account_contract.hpp"

namespace mailwarden::store {
namespace {

using account_contract::message_to;
using account_contract::start_time;
using mailwarden::testing::IsOk;
using namespace std::chrono_literals;

struct MemoryBackend {
    static void set_up_suite() {}
    static void tear_down_suite() {}
    std::shared_ptr<AccountStore> make() { return std::make_shared<MemoryAccountStore>(); }
};

}  // namespace

namespace account_contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, AccountStoreContract, MemoryBackend);
}

namespace {

TEST(MemoryAccountStore, AnIdleAccountExpiresAfterItsTtl) {
    MemoryAccountStore s;
    AccountTracking t;
    ASSERT_THAT(s.record("idle", message_to({1}, "192.0.2.1"), t, start_time()), IsOk());
    auto before = s.get("idle", t, start_time() + t.idle_ttl - 1min);
    ASSERT_THAT(before, IsOk());
    EXPECT_TRUE(before->has_value());
    auto after = s.get("idle", t, start_time() + t.idle_ttl + 1min);
    ASSERT_THAT(after, IsOk());
    EXPECT_FALSE(after->has_value());
    EXPECT_THAT(s.login_of("alice@example.com", start_time() + t.sender_ttl + 1min),
                mailwarden::testing::IsOkAndHolds(::testing::Eq(std::nullopt)));
}

TEST(MemoryAccountStore, TheNumberOfAccountsIsCapped) {
    MemoryAccountOptions o;
    o.max_accounts = 100;
    MemoryAccountStore s(o);
    AccountTracking t;
    for (int i = 0; i < 1000; ++i) {
        ASSERT_THAT(s.record("user" + std::to_string(i), message_to({1}, "192.0.2.1"), t,
                             start_time() + std::chrono::seconds(i)),
                    IsOk());
    }
    EXPECT_LE(s.size(), 100u);
    auto newest = s.get("user999", t, start_time() + 1000s);
    ASSERT_THAT(newest, IsOk());
    EXPECT_TRUE(newest->has_value());
}

}  // namespace
}  // namespace mailwarden::store
