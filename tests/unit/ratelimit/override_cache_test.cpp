// override_cache_test.cpp - store overrides (mailwardenctl override) as the limiter reads
// them: parsed once per refresh interval, winning over the config's overrides, bad entries
// skipped, the count capped, the last snapshot kept while the store fails.
#include "ratelimit/override_cache.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ratelimit/limiter.hpp"
#include "store/memory_buckets.hpp"
#include "support/matchers.hpp"

namespace mailwarden::ratelimit {
namespace {

using mailwarden::testing::HasError;
using mailwarden::testing::IsOk;
using namespace std::chrono_literals;

const util::SystemTime kNoon{std::chrono::seconds{1767225600 + 12 * 3600}};

store::LimitOverride override_of(std::string rule, std::string login, std::string limits) {
    return {std::move(rule), std::move(login), std::move(limits), "admin:test", kNoon};
}

Rule login_rule() {
    Rule r;
    r.name = "outbound-login";
    r.key = {KeyPart::Login};
    r.windows = {{3, 1min}};
    r.overrides["alice"] = {{5, 1min}};
    return r;
}

MessageFacts from(std::string login) {
    MessageFacts f;
    f.direction = Direction::Outbound;
    f.login = std::move(login);
    f.recipients = {"bob@example.org"};
    return f;
}

int allowed_in_a_row(const Limiter& limiter, const std::string& login, util::SystemTime now) {
    int n = 0;
    while (n < 100) {
        auto r = limiter.check(from(login), Stage::EndOfMessage, now);
        if (!r || !r->allowed) {
            break;
        }
        ++n;
    }
    return n;
}

TEST(ParseRates, ListsOfRates) {
    auto w = parse_rates("1000/1m, 20000/1d");
    ASSERT_THAT(w, IsOk());
    EXPECT_EQ(*w, (std::vector<Window>{{1000, 1min}, {20000, 24h}}));
    EXPECT_THAT(parse_rates("10/1m,20/1m"), HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(parse_rates("lots"), HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(parse_rates(""), HasError(util::ErrorCode::InvalidInput));
}

TEST(OverrideCache, StoreOverridesWinOverConfigAndApplyAfterTheRefresh) {
    auto overrides = std::make_shared<store::MemoryOverrideStore>();
    auto cache = std::make_shared<OverrideCache>(overrides, 10s);
    store::MemoryBucketStore buckets;
    const Limiter limiter({login_rule()}, buckets, cache);
    EXPECT_EQ(allowed_in_a_row(limiter, "bob", kNoon), 3) << "the rule";
    EXPECT_EQ(allowed_in_a_row(limiter, "alice", kNoon), 5) << "the config's override";
    ASSERT_THAT(overrides->set(override_of("outbound-login", "Carol", "8/1m")), IsOk());
    ASSERT_THAT(overrides->set(override_of("outbound-login", "alice", "7/1m")), IsOk());
    ASSERT_THAT(overrides->set(override_of("outbound-login", "dave", "not a rate")), IsOk());
    ASSERT_THAT(overrides->set(override_of("outbound-login", "frank", "8/1m")), IsOk());
    EXPECT_EQ(allowed_in_a_row(limiter, "frank", kNoon + 1s), 3) << "not reloaded yet";
    EXPECT_EQ(allowed_in_a_row(limiter, "carol", kNoon + 11s), 8);
    EXPECT_EQ(allowed_in_a_row(limiter, "alice", kNoon + 2min), 7) << "the store wins";
    EXPECT_EQ(allowed_in_a_row(limiter, "dave", kNoon + 2min), 3) << "a bad entry is skipped";
    ASSERT_THAT(overrides->remove("outbound-login", "CAROL"),
                mailwarden::testing::IsOkAndHolds(true));
    EXPECT_EQ(allowed_in_a_row(limiter, "carol", kNoon + 5min), 3) << "removed";
}

TEST(OverrideStore, TheNumberOfOverridesIsCappedAndInputChecked) {
    store::MemoryOverrideStore overrides;
    for (std::size_t i = 0; i < store::kMaxOverrides; ++i) {
        ASSERT_THAT(overrides.set(override_of("r", "user" + std::to_string(i), "1/1m")), IsOk());
    }
    EXPECT_THAT(overrides.set(override_of("r", "one-more", "1/1m")),
                HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(overrides.set(override_of("r", "user1", "2/1m")), IsOk()) << "replacing is fine";
    EXPECT_THAT(overrides.set(override_of("bad:rule", "x", "1/1m")),
                HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(overrides.set(override_of("r", "", "1/1m")),
                HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(overrides.set(override_of("r", "x", std::string(300, '1'))),
                HasError(util::ErrorCode::InvalidInput));
}

}  // namespace
}  // namespace mailwarden::ratelimit
