// account_contract.hpp - the behaviour every AccountStore promises, as one typed suite. A
// backend instantiates it with a Backend type providing:
//   static void set_up_suite(); static void tear_down_suite();
//   std::shared_ptr<AccountStore> make();  // a fresh, empty store
// memory_accounts_test.cpp runs it on MemoryAccountStore, integration/store on
// RedisAccountStore: the same calls give the same figures on both.
#pragma once

#include <cmath>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/account_store.hpp"
#include "support/matchers.hpp"
#include "util/ascii.hpp"

namespace mailwarden::store::account_contract {

using mailwarden::testing::HasError;
using mailwarden::testing::IsOk;
using namespace std::chrono_literals;
using namespace std::string_literals;

/// 2026-01-05T00:00:00Z (a Monday), where scripted runs start.
inline util::SystemTime start_time() {
    return util::SystemTime{std::chrono::seconds{1767571200}};
}

/// One message to `domains` (named d0.example ... by number) from client `ip`.
inline AccountActivity message_to(std::initializer_list<int> domains, const std::string& ip,
                                  std::uint64_t failed = 0) {
    AccountActivity a;
    a.recipients = domains.size();
    a.failed_recipients = failed;
    a.client_ip_tag = account_tag(ip);
    a.client_net_tag = account_tag(ip.substr(0, ip.rfind('.')));
    for (int d : domains) {
        a.recipient_domain_tags.push_back(account_tag("d" + std::to_string(d) + ".example"));
    }
    a.from_domain_tags.push_back(account_tag("example.com"));
    a.sender = "Alice@Example.com";
    return a;
}

template <class Backend>
class AccountStoreContract : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { Backend::set_up_suite(); }
    static void TearDownTestSuite() { Backend::tear_down_suite(); }
    void SetUp() override {
        store_ = backend_.make();
        ASSERT_TRUE(store_);
    }

    Backend backend_;
    std::shared_ptr<AccountStore> store_;
    AccountTracking tracking_;  // 1 h windows, 7 d half-life
};

TYPED_TEST_SUITE_P(AccountStoreContract);

TYPED_TEST_P(AccountStoreContract, RecordCountsTheWindowAndTheDay) {
    auto& s = *this->store_;
    const auto t0 = start_time() + 10min;
    ASSERT_THAT(s.record("Alice", message_to({1, 2}, "192.0.2.1"), this->tracking_, t0), IsOk());
    auto after = s.record("alice", message_to({2, 3}, "192.0.2.2", 1), this->tracking_, t0 + 1min);
    ASSERT_THAT(after, IsOk());
    EXPECT_EQ(after->login, "alice");
    EXPECT_EQ(after->state, AccountState::Ok);
    EXPECT_EQ(after->window.messages, 2u);
    EXPECT_EQ(after->window.recipients, 4u);
    EXPECT_EQ(after->window.failed_recipients, 1u);
    EXPECT_EQ(after->window.domains, 3u);
    EXPECT_EQ(after->window.new_domains, 3u);
    EXPECT_EQ(after->window.new_from_domains, 1u);
    EXPECT_EQ(after->day.client_ips, 2u);
    EXPECT_EQ(after->day.client_nets, 1u);
    EXPECT_EQ(after->baseline.weight, 0);
    EXPECT_EQ(after->baseline.messages_seen, 2u);
    EXPECT_EQ(after->first_seen, t0);
    EXPECT_EQ(after->last_seen, t0 + 1min);
}

TYPED_TEST_P(AccountStoreContract, FinishedWindowsFoldIntoTheDecayingBaseline) {
    auto& s = *this->store_;
    const auto t0 = start_time();
    for (int i = 0; i < 4; ++i) {
        ASSERT_THAT(s.record("bob", message_to({1}, "192.0.2.1"), this->tracking_, t0 + 1min),
                    IsOk());
    }
    // The next window: the first (4 messages, 1 domain) is folded with weight 1.
    auto second = s.record("bob", message_to({1, 2}, "192.0.2.1"), this->tracking_, t0 + 61min);
    ASSERT_THAT(second, IsOk());
    EXPECT_DOUBLE_EQ(second->baseline.weight, 1.0);
    EXPECT_DOUBLE_EQ(second->baseline.messages, 4.0);
    EXPECT_DOUBLE_EQ(second->baseline.domains, 1.0);
    EXPECT_DOUBLE_EQ(second->baseline.new_domains, 1.0);
    EXPECT_EQ(second->window.new_domains, 1u) << "d1 is known from the first window";
    EXPECT_EQ(second->window.domains, 2u);
    // Folds decay by the time between window ends: 1 h between the first two.
    const double d = std::exp2(-1.0 / 168.0);
    const auto t2 = t0 + 61min + this->tracking_.half_life;  // folds the second window
    auto third = s.record("bob", message_to({1}, "192.0.2.1"), this->tracking_, t2);
    ASSERT_THAT(third, IsOk());
    EXPECT_NEAR(third->baseline.weight, d + 1.0, 1e-9);
    EXPECT_NEAR(third->baseline.messages, 4.0 * d + 1.0, 1e-9);
    // The third window ended one half-life after the second: everything before counts half.
    auto later = s.record("bob", message_to({1}, "192.0.2.1"), this->tracking_, t2 + 1h);
    ASSERT_THAT(later, IsOk());
    EXPECT_NEAR(later->baseline.weight, (d + 1.0) * 0.5 + 1.0, 1e-9);
    EXPECT_NEAR(later->baseline.messages, (4.0 * d + 1.0) * 0.5 + 1.0, 1e-9);
    EXPECT_NEAR(later->baseline.avg(later->baseline.messages),
                ((4.0 * d + 1.0) * 0.5 + 1.0) / ((d + 1.0) * 0.5 + 1.0), 1e-9);
    // Days fold the same way: the first day saw one IP.
    EXPECT_NEAR(later->baseline.day_weight, 1.0, 1e-9);
    EXPECT_NEAR(later->baseline.client_ips, 1.0, 1e-9);
    // get shows the same account without changing it.
    auto seen = s.get("BOB", this->tracking_, t2 + 1h);
    ASSERT_THAT(seen, IsOk());
    ASSERT_TRUE(seen->has_value());
    EXPECT_EQ((*seen)->window.messages, later->window.messages);
    EXPECT_NEAR((*seen)->baseline.messages, later->baseline.messages, 1e-9);
}

TYPED_TEST_P(AccountStoreContract, HoldReleaseAndHeldList) {
    auto& s = *this->store_;
    const auto t0 = start_time();
    ASSERT_THAT(s.record("carol", message_to({1}, "192.0.2.1"), this->tracking_, t0), IsOk());
    HoldInfo h{"detector", "20x the usual volume", t0, 7.5, R"({"messages":120})"};
    EXPECT_THAT(s.hold("carol", h, this->tracking_, t0 + 1s), testing::IsOkAndHolds(true));
    HoldInfo again{"admin:root", "second", t0, 0, "{}"};
    EXPECT_THAT(s.hold("Carol", again, this->tracking_, t0 + 2s), testing::IsOkAndHolds(false));
    auto held = s.held(this->tracking_, t0 + 3s, 10);
    ASSERT_THAT(held, IsOk());
    ASSERT_EQ(held->size(), 1u);
    const auto& a = held->front();
    EXPECT_EQ(a.login, "carol");
    EXPECT_EQ(a.state, AccountState::Held);
    ASSERT_TRUE(a.hold.has_value());
    EXPECT_EQ(a.hold->by, "detector");
    EXPECT_EQ(a.hold->reason, "20x the usual volume");
    EXPECT_DOUBLE_EQ(a.hold->score, 7.5);
    EXPECT_EQ(a.hold->figures, R"({"messages":120})");
    EXPECT_EQ(a.hold->since, t0 + 1s);
    // While held, mail is still counted but the anomaly never enters the baseline.
    ASSERT_THAT(s.record("carol", message_to({9}, "198.51.100.1"), this->tracking_, t0 + 2h),
                IsOk());
    auto ended = s.release("carol", "admin:root", 1h, this->tracking_, t0 + 3h);
    ASSERT_THAT(ended, IsOk());
    ASSERT_TRUE(ended->has_value());
    EXPECT_EQ((*ended)->by, "detector");
    EXPECT_EQ((*ended)->reason, "20x the usual volume");
    auto after = s.get("carol", this->tracking_, t0 + 3h);
    ASSERT_THAT(after, IsOk());
    ASSERT_TRUE(after->has_value());
    EXPECT_EQ((*after)->state, AccountState::Ok);
    EXPECT_FALSE((*after)->hold.has_value());
    EXPECT_EQ((*after)->released_by, "admin:root");
    EXPECT_EQ((*after)->release_grace_until, t0 + 4h);
    EXPECT_EQ((*after)->window.messages, 0u);
    EXPECT_EQ((*after)->day.client_ips, 0u);
    EXPECT_DOUBLE_EQ((*after)->baseline.weight, 0.0) << "no window folded while held";
    EXPECT_THAT(s.held(this->tracking_, t0 + 3h, 10), testing::IsOkAndHolds(::testing::IsEmpty()));
    // Releasing again (or an unknown login) ends nothing.
    auto twice = s.release("carol", "admin:root", 1h, this->tracking_, t0 + 3h);
    ASSERT_THAT(twice, IsOk());
    EXPECT_FALSE(twice->has_value());
    auto unknown = s.release("nobody", "admin:root", 1h, this->tracking_, t0 + 3h);
    ASSERT_THAT(unknown, IsOk());
    EXPECT_FALSE(unknown->has_value());
}

TYPED_TEST_P(AccountStoreContract, AdminMayHoldALoginNeverSeen) {
    auto& s = *this->store_;
    HoldInfo h{"admin:root", "password leaked", start_time(), 0, "{}"};
    EXPECT_THAT(s.hold("dave@example.com", h, this->tracking_, start_time()),
                testing::IsOkAndHolds(true));
    auto a = s.get("dave@example.com", this->tracking_, start_time() + 1min);
    ASSERT_THAT(a, IsOk());
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->state, AccountState::Held);
}

TYPED_TEST_P(AccountStoreContract, BouncesCountOnlyForTrackedLogins) {
    auto& s = *this->store_;
    const auto t0 = start_time();
    ASSERT_THAT(s.record_bounces("ghost", 3, this->tracking_, t0), IsOk());
    EXPECT_THAT(s.get("ghost", this->tracking_, t0),
                testing::IsOkAndHolds(::testing::Eq(std::nullopt)));
    ASSERT_THAT(s.record("erin", message_to({1}, "192.0.2.1"), this->tracking_, t0), IsOk());
    ASSERT_THAT(s.record_bounces("erin", 3, this->tracking_, t0 + 1min), IsOk());
    auto a = s.get("erin", this->tracking_, t0 + 2min);
    ASSERT_THAT(a, IsOk());
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->window.bounces, 3u);
}

TYPED_TEST_P(AccountStoreContract, RemembersTheLoginOfAnEnvelopeSender) {
    auto& s = *this->store_;
    const auto t0 = start_time();
    ASSERT_THAT(s.record("Frank", message_to({1}, "192.0.2.1"), this->tracking_, t0), IsOk());
    EXPECT_THAT(s.login_of("alice@example.COM", t0 + 1min),
                testing::IsOkAndHolds(::testing::Optional(std::string("frank"))));
    EXPECT_THAT(s.login_of("other@example.com", t0 + 1min),
                testing::IsOkAndHolds(::testing::Eq(std::nullopt)));
}

TYPED_TEST_P(AccountStoreContract, OddLoginsAreDistinctAndBadInputIsRefused) {
    auto& s = *this->store_;
    const auto t0 = start_time();
    const std::string odd = "al\r\nice\0 SET x"s;
    ASSERT_THAT(s.record(odd, message_to({1}, "192.0.2.1"), this->tracking_, t0), IsOk());
    ASSERT_THAT(s.record("alice", message_to({1}, "192.0.2.1"), this->tracking_, t0), IsOk());
    auto a = s.get(odd, this->tracking_, t0);
    ASSERT_THAT(a, IsOk());
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->window.messages, 1u);
    EXPECT_EQ((*a)->login, util::to_lower(odd));
    const std::string long_login(4096, 'x');
    EXPECT_THAT(s.record("", message_to({1}, "192.0.2.1"), this->tracking_, t0),
                HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(s.record(long_login, message_to({1}, "192.0.2.1"), this->tracking_, t0),
                HasError(util::ErrorCode::InvalidInput));
    AccountActivity bad = message_to({1}, "192.0.2.1");
    bad.recipient_domain_tags.push_back("not hex!");
    EXPECT_THAT(s.record("alice", bad, this->tracking_, t0),
                HasError(util::ErrorCode::InvalidInput));
    AccountTracking broken;
    broken.window = 7min;  // does not divide a day
    EXPECT_THAT(s.record("alice", message_to({1}, "192.0.2.1"), broken, t0),
                HasError(util::ErrorCode::InvalidInput));
}

TYPED_TEST_P(AccountStoreContract, RememberedDomainsAreCapped) {
    auto& s = *this->store_;
    AccountTracking t;
    t.known_domains = 8;
    const auto t0 = start_time();
    // 12 domains: 8 remembered, 4 only counted; all 12 are new.
    auto first =
        s.record("gina", message_to({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, "192.0.2.1"), t, t0);
    ASSERT_THAT(first, IsOk());
    EXPECT_EQ(first->window.new_domains, 12u);
    // Next window: trimmed to 6 remembered; of d0..d11 at most 6 are known, so 6+ are new.
    auto second = s.record("gina", message_to({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, "192.0.2.1"),
                           t, t0 + 1h);
    ASSERT_THAT(second, IsOk());
    EXPECT_EQ(second->window.domains, 12u);
    EXPECT_EQ(second->window.new_domains, 6u);
}

REGISTER_TYPED_TEST_SUITE_P(AccountStoreContract, RecordCountsTheWindowAndTheDay,
                            FinishedWindowsFoldIntoTheDecayingBaseline, HoldReleaseAndHeldList,
                            AdminMayHoldALoginNeverSeen, BouncesCountOnlyForTrackedLogins,
                            RemembersTheLoginOfAnEnvelopeSender,
                            OddLoginsAreDistinctAndBadInputIsRefused, RememberedDomainsAreCapped);

}  // namespace mailwarden::store::account_contract
