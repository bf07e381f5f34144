// account_check_test.cpp - the compromised-account check on MemoryAccountStore: the
// scripted scenarios (account_scenario.hpp), settings from config, and what it ignores.
#include "policy/checks/account_check.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "store/memory_accounts.hpp"
#include "unit/policy/account_scenario.hpp"

namespace mailwarden::policy {
namespace {

using account_scenario::monday;
using account_scenario::send;
using mailwarden::testing::FakeClock;
using mailwarden::testing::IsOk;

struct MemoryBackend {
    static void set_up_suite() {}
    static void tear_down_suite() {}
    std::shared_ptr<store::AccountStore> make() {
        return std::make_shared<store::MemoryAccountStore>();
    }
};

}  // namespace

namespace account_scenario {
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, AccountScenario, MemoryBackend);
}

namespace {

TEST(AccountCheck, UnauthenticatedAndExemptMailIsNotTracked) {
    auto accounts = std::make_shared<store::MemoryAccountStore>();
    auto settings = *account_check_settings(config::AccountsConfig{});
    settings.exempt_logins = {"Newsletter"};
    AccountCheck check(accounts, settings, std::make_shared<FakeClock>(monday()));
    EXPECT_EQ(send(check, "", "192.0.2.1", {"a@b.example"}).action, Action::Continue);
    EXPECT_EQ(send(check, "newsletter", "192.0.2.1", {"a@b.example"}).action, Action::Continue);
    EXPECT_THAT(accounts->get("newsletter", settings.tracking, monday()),
                mailwarden::testing::IsOkAndHolds(::testing::Eq(std::nullopt)));
    EXPECT_EQ(accounts->size(), 0u);
}

TEST(AccountCheck, SettingsComeFromTheAccountsSection) {
    auto loaded = config::load_string(R"(
accounts:
  enabled: true
  action: tempfail
  window: 30m
  hold_score: 6
  release_grace: 2h
  signals:
    volume: {min: 100, multiple: 20, floor: 10, points: 3}
    new_from_domains: {points: 0}
  exempt_logins: [Bulk@Example.com]
)",
                                      "accounts.yaml");
    ASSERT_TRUE(loaded.has_value()) << config::describe(loaded.error());
    auto s = account_check_settings(loaded->accounts);
    ASSERT_THAT(s, IsOk());
    EXPECT_EQ(s->action, HeldAction::Tempfail);
    EXPECT_EQ(s->tracking.window, std::chrono::minutes(30));
    EXPECT_EQ(s->detector.hold_score, 6);
    EXPECT_EQ(s->detector.volume.min, 100u);
    EXPECT_EQ(s->detector.volume.multiple, 20u);
    EXPECT_EQ(s->detector.volume.points, 3);
    EXPECT_EQ(s->detector.new_from_domains.points, 0);
    EXPECT_EQ(s->release_grace, std::chrono::hours(2));
    EXPECT_EQ(s->exempt_logins, std::vector<std::string>{"bulk@example.com"});
}

TEST(AccountCheck, BadSettingsAreConfigErrorsNamingThePlace) {
    struct Case {
        const char* yaml;
        const char* want;
    };
    const Case cases[] = {
        {"accounts:\n  window: 7m\n", "accounts.window"},
        {"accounts:\n  action: drop\n", "accounts.action"},
        {"accounts:\n  hold_score: 0\n", "accounts.hold_score"},
        {"accounts:\n  signals:\n    volume: {multiple: 0}\n", "accounts.signals.volume.multiple"},
        {"accounts:\n  signals:\n    bounces: {percent: 120}\n",
         "accounts.signals.bounces.percent"},
        {"accounts:\n  signals:\n    spam: {points: 1}\n", "unknown key 'spam'"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.yaml);
        auto loaded = config::load_string(c.yaml, "bad.yaml");
        ASSERT_FALSE(loaded.has_value());
        EXPECT_THAT(config::describe(loaded.error()), ::testing::HasSubstr(c.want));
        EXPECT_THAT(config::describe(loaded.error()), ::testing::HasSubstr("bad.yaml:"));
    }
}

}  // namespace
}  // namespace mailwarden::policy
