// account_scenario.hpp - the compromised-account check on scripted traffic with a
// controlled clock, as one typed suite. A backend instantiates it with a type providing:
//   static void set_up_suite(); static void tear_down_suite();
//   std::shared_ptr<store::AccountStore> make();  // a fresh, empty store
// account_check_test.cpp runs it on MemoryAccountStore; integration/ratelimit on Redis.
//
// The normal login ("alice") works 9:00-17:00 UTC on weekdays: 3-8 messages an hour to
// one or two of 40 usual domains (a new one now and then), from the office (192.0.2.10)
// and in the evening from home (198.51.100.20). Compromised, the same login sends 20x its
// volume from 30 networks to 500 new domains.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/checks/account_check.hpp"
#include "store/account_store.hpp"
#include "support/fake_clock.hpp"
#include "support/matchers.hpp"

namespace mailwarden::policy::account_scenario {

using mailwarden::testing::FakeClock;
using mailwarden::testing::IsOk;
using namespace std::chrono_literals;

/// 2026-01-05T00:00:00Z, a Monday.
inline util::SystemTime monday() {
    return util::SystemTime{std::chrono::seconds{1767571200}};
}

/// Sends one message through a fresh run of `check`: `refused` more recipients were tried
/// at RCPT but refused. Returns the decision at end of message.
inline Decision send(const AccountCheck& check, const std::string& login, const std::string& ip,
                     const std::vector<std::string>& recipients, std::uint64_t refused = 0,
                     const std::string& from_domain = "example.com") {
    Transaction tx;
    tx.connection.client_ip = *util::IpAddress::parse(ip);
    tx.message.auth_login = login;
    tx.message.direction = Direction::Outbound;
    tx.message.mail_from = *smtp::parse_envelope_address("<" + login + "@example.com>");
    tx.message.headers.push_back({"From", " Alice <" + login + "@" + from_domain + ">"});
    auto run = check.start(tx);
    for (const auto& r : recipients) {
        tx.current_rcpt = *smtp::parse_envelope_address("<" + r + ">");
        EXPECT_EQ(run->on(Stage::Rcpt, tx).action, Action::Continue);
        tx.message.recipients.push_back(tx.current_rcpt);
    }
    for (std::uint64_t i = 0; i < refused; ++i) {
        tx.current_rcpt =
            *smtp::parse_envelope_address("<refused" + std::to_string(i) + "@x.test>");
        run->on(Stage::Rcpt, tx);
    }
    return run->on(Stage::EndOfMessage, tx);
}

template <class Backend>
class AccountScenario : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { Backend::set_up_suite(); }
    static void TearDownTestSuite() { Backend::tear_down_suite(); }
    void SetUp() override {
        accounts_ = backend_.make();
        ASSERT_TRUE(accounts_);
        clock_ = std::make_shared<FakeClock>(monday());
        check_ = make_check(HeldAction::Quarantine);
    }
    std::unique_ptr<AccountCheck> make_check(HeldAction action) {
        auto settings = account_check_settings(config::AccountsConfig{});
        EXPECT_TRUE(settings.has_value());
        settings->action = action;
        return std::make_unique<AccountCheck>(accounts_, *settings, clock_);
    }

    // One normal week for `login` from `start`: returns the decisions that were not
    // Continue (none expected).
    std::vector<Decision> normal_week(const std::string& login, util::SystemTime start) {
        std::vector<Decision> odd;
        int n = 0;
        for (int day = 0; day < 7; ++day) {
            const bool weekend = day >= 5;
            for (int hour = 0; hour < 24; ++hour) {
                const bool work = !weekend && hour >= 9 && hour < 17;
                const bool evening = hour >= 19 && hour < 21;
                if (!work && !evening) {
                    continue;
                }
                const int messages = work ? 3 + (day * 7 + hour) % 6 : 1;
                const std::string ip = work ? "192.0.2.10" : "198.51.100.20";
                for (int m = 0; m < messages; ++m) {
                    clock_->set(start + std::chrono::hours(24 * day + hour) +
                                std::chrono::minutes(m * 55 / messages));
                    ++n;
                    std::vector<std::string> rcpts{
                        fmt::format("p{}@usual{}.example", n % 7, n % 40)};
                    if (n % 3 == 0) {
                        rcpts.push_back(fmt::format("q@usual{}.example", (n * 7) % 40));
                    }
                    if (n % 25 == 0) {
                        rcpts.push_back(fmt::format("x@rare{}.example", n));
                    }
                    auto d = send(*check_, login, ip, rcpts, n % 20 == 0 ? 1 : 0);
                    if (d.action != Action::Continue) {
                        odd.push_back(d);
                    }
                }
            }
        }
        return odd;
    }

    // The compromised hour from `start`: 100 messages (20x), from 30 /24 networks, to 500
    // new domains (5 per message). Returns the index of the first held message (or -1)
    // and every decision.
    int compromised_hour(const std::string& login, util::SystemTime start,
                         std::vector<Decision>& decisions) {
        int first_held = -1;
        for (int m = 0; m < 100; ++m) {
            clock_->set(start + std::chrono::seconds(m * 35));
            std::vector<std::string> rcpts;
            for (int r = 0; r < 5; ++r) {
                rcpts.push_back(fmt::format("victim@target{}.example", m * 5 + r));
            }
            auto d = send(*check_, login, fmt::format("203.0.{}.{}", m % 30, 7 + m % 30), rcpts);
            if (d.action != Action::Continue && first_held < 0) {
                first_held = m;
            }
            decisions.push_back(std::move(d));
        }
        return first_held;
    }

    Backend backend_;
    std::shared_ptr<store::AccountStore> accounts_;
    std::shared_ptr<FakeClock> clock_;
    std::unique_ptr<AccountCheck> check_;
};

TYPED_TEST_SUITE_P(AccountScenario);

TYPED_TEST_P(AccountScenario, ANormalLoginStaysOkOverAWeek) {
    EXPECT_THAT(this->normal_week("alice", monday()), ::testing::IsEmpty());
    AccountCheckSettings defaults = *account_check_settings(config::AccountsConfig{});
    auto a = this->accounts_->get("alice", defaults.tracking, this->clock_->now());
    ASSERT_THAT(a, IsOk());
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->state, store::AccountState::Ok);
    EXPECT_GT((*a)->baseline.weight, 30) << "a week of working hours is in the baseline";
    EXPECT_NEAR((*a)->baseline.avg((*a)->baseline.messages), 5.0, 1.5);
    // A second week is judged against the first.
    EXPECT_THAT(this->normal_week("alice", monday() + 7 * 24h), ::testing::IsEmpty());
}

TYPED_TEST_P(AccountScenario, ACompromisedLoginIsHeldWithinTheWindowAndReleaseRestoresIt) {
    ASSERT_THAT(this->normal_week("alice", monday()), ::testing::IsEmpty());
    const auto attack = monday() + 7 * 24h + 10h;  // the next Monday, 10:00
    std::vector<Decision> decisions;
    const int first_held = this->compromised_hour("alice", attack, decisions);
    ASSERT_GE(first_held, 0) << "never held";
    EXPECT_LT(first_held, 30) << "held early in the window";
    for (std::size_t i = static_cast<std::size_t>(first_held); i < decisions.size(); ++i) {
        EXPECT_EQ(decisions[i].action, Action::Quarantine) << "message " << i;
    }
    const auto& held = decisions[static_cast<std::size_t>(first_held)];
    EXPECT_THAT(held.reason, ::testing::HasSubstr("login=alice held now by=detector"));
    EXPECT_THAT(held.reason, ::testing::HasSubstr("new recipient domains this hour"));
    EXPECT_THAT(held.reason, ::testing::HasSubstr("client networks today"));
    EXPECT_THAT(held.reason, ::testing::HasSubstr("\"signals\""));
    EXPECT_THAT(decisions.back().reason, ::testing::HasSubstr("login=alice held by=detector"));

    AccountCheckSettings defaults = *account_check_settings(config::AccountsConfig{});
    auto listed = this->accounts_->held(defaults.tracking, this->clock_->now(), 10);
    ASSERT_THAT(listed, IsOk());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ(listed->front().login, "alice");
    EXPECT_GE(listed->front().hold->score, 4);

    // The admin releases it: mail flows again and the attack never entered the baseline.
    this->clock_->set(attack + 2h);
    auto ended =
        this->accounts_->release("alice", "admin:root", 1h, defaults.tracking, attack + 2h);
    ASSERT_THAT(ended, IsOk());
    ASSERT_TRUE(ended->has_value());
    EXPECT_EQ((*ended)->by, "detector");
    EXPECT_EQ(send(*this->check_, "alice", "192.0.2.10", {"p@usual1.example"}).action,
              Action::Continue);
    auto after = this->accounts_->get("alice", defaults.tracking, attack + 2h);
    ASSERT_THAT(after, IsOk());
    EXPECT_EQ((*after)->state, store::AccountState::Ok);
    EXPECT_LT((*after)->baseline.avg((*after)->baseline.messages), 7.0);
    // A normal week after the release stays ok.
    EXPECT_THAT(this->normal_week("alice", monday() + 14 * 24h), ::testing::IsEmpty());
}

TYPED_TEST_P(AccountScenario, TempfailModeRefusesWithAnExplanation) {
    auto check = this->make_check(HeldAction::Tempfail);
    AccountCheckSettings defaults = *account_check_settings(config::AccountsConfig{});
    store::HoldInfo h{"admin:root", "password phished", monday(), 0, "{}"};
    ASSERT_THAT(this->accounts_->hold("bob", h, defaults.tracking, monday()), IsOk());
    auto d = send(*check, "bob", "192.0.2.10", {"p@usual1.example"});
    EXPECT_EQ(d.action, Action::Tempfail);
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->code, 451);
    EXPECT_EQ(d.reply->enhanced, "4.7.1");
    EXPECT_THAT(d.reason, ::testing::HasSubstr("by=admin:root"));
    EXPECT_THAT(d.reason, ::testing::HasSubstr("password phished"));
}

TYPED_TEST_P(AccountScenario, RefusedRecipientsAndBouncesAreSignals) {
    ASSERT_THAT(this->normal_week("carol", monday()), ::testing::IsEmpty());
    AccountCheckSettings defaults = *account_check_settings(config::AccountsConfig{});
    // Bounces for mail from carol's address reach her account through login_of.
    const auto t = monday() + 7 * 24h + 10h;
    this->clock_->set(t);
    EXPECT_EQ(send(*this->check_, "carol", "192.0.2.10", {"a@usual1.example"}).action,
              Action::Continue);
    auto fed = ratelimit::record_outgoing_failures(*this->accounts_, "CAROL@example.com", 1,
                                                   defaults.tracking, t);
    ASSERT_THAT(fed, IsOk());
    EXPECT_EQ(*fed, std::optional<std::string>("carol"));
    auto a = this->accounts_->get("carol", defaults.tracking, t);
    ASSERT_THAT(a, IsOk());
    EXPECT_EQ((*a)->window.bounces, 1u);
    // 40 messages with 1 good and 3 refused recipients each, then 30 bounces: the shares of
    // refused (75%) and bounced (>20%) recipients fire, with the volume (40 > 10 x 5... no:
    // 40 < 50) not firing: score 2 < 4, so carol stays ok but the signals are counted.
    for (int m = 0; m < 40; ++m) {
        this->clock_->set(t + std::chrono::seconds(m * 60));
        EXPECT_EQ(send(*this->check_, "carol", "192.0.2.10", {"a@usual1.example"}, 3).action,
                  Action::Continue);
    }
    ASSERT_THAT(ratelimit::record_outgoing_failures(*this->accounts_, "carol@example.com", 30,
                                                    defaults.tracking, t + 41min),
                IsOk());
    auto now = this->accounts_->get("carol", defaults.tracking, t + 41min);
    ASSERT_THAT(now, IsOk());
    const auto assessment = ratelimit::assess(**now, defaults.detector, defaults.tracking.window);
    EXPECT_EQ(assessment.score, 2);
    ASSERT_EQ(assessment.signals.size(), 2u);
    EXPECT_EQ(assessment.signals[0].name, "refused_recipients");
    EXPECT_EQ(assessment.signals[1].name, "bounces");
}

REGISTER_TYPED_TEST_SUITE_P(AccountScenario, ANormalLoginStaysOkOverAWeek,
                            ACompromisedLoginIsHeldWithinTheWindowAndReleaseRestoresIt,
                            TempfailModeRefusesWithAnExplanation,
                            RefusedRecipientsAndBouncesAreSignals);

}  // namespace mailwarden::policy::account_scenario
