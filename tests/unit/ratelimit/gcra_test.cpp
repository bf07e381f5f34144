// gcra_test.cpp - the GCRA formulas alone: burst, refill, retry time, usage, TTL.
#include "ratelimit/gcra.hpp"

#include <gtest/gtest.h>

namespace mailwarden::ratelimit::gcra {
namespace {

using namespace std::chrono_literals;

constexpr Micros kNow = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr Micros kSecond = 1'000'000;

TEST(Gcra, EmissionIntervalIsPeriodOverLimitRoundedUp) {
    EXPECT_EQ(params(30, 1min).interval, 2 * kSecond);
    EXPECT_EQ(params(500, 24h).interval, 172'800'000);
    EXPECT_EQ(params(7, 1min).interval, 8'571'429);  // 60e6 / 7 = 8571428.57...
    EXPECT_EQ(params(7, 1min).window(), 7 * 8'571'429);
    static_assert(params(1, 1s).interval == kSecond);
}

TEST(Gcra, LimitUnitsPassAtOnceThenTheNextWaitsOneInterval) {
    const auto p = params(30, 1min);
    Micros tat = 0;
    for (int i = 1; i <= 30; ++i) {
        const auto d = decide(tat, kNow, p, 1);
        ASSERT_TRUE(d.allowed) << "unit " << i;
        EXPECT_EQ(d.used, i);
        tat = d.tat;
    }
    const auto refused = decide(tat, kNow, p, 1);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.tat, tat);  // unchanged
    EXPECT_EQ(refused.used, 30);
    EXPECT_EQ(refused.retry_after, 2 * kSecond);
    EXPECT_FALSE(refused.over_capacity);

    // One interval later exactly one more unit passes.
    const auto later = decide(tat, kNow + 2 * kSecond, p, 1);
    EXPECT_TRUE(later.allowed);
    EXPECT_EQ(later.used, 30);
    EXPECT_FALSE(decide(later.tat, kNow + 2 * kSecond, p, 1).allowed);
    // Just before it, none.
    EXPECT_FALSE(decide(tat, kNow + 2 * kSecond - 1, p, 1).allowed);
}

TEST(Gcra, UsageDrainsLinearlyAndAnOldTatIsAnEmptyBucket) {
    const auto p = params(10, 10s);          // T = 1 s
    const Micros tat = kNow + 10 * kSecond;  // full
    EXPECT_EQ(used(tat, kNow, p), 10);
    EXPECT_EQ(used(tat, kNow + kSecond / 2, p), 10);  // ceil: a partial unit still counts
    EXPECT_EQ(used(tat, kNow + kSecond, p), 9);
    EXPECT_EQ(used(tat, kNow + 10 * kSecond, p), 0);
    EXPECT_EQ(used(tat, kNow + 3600 * kSecond, p), 0);
    EXPECT_EQ(used(0, kNow, p), 0);
    // A TAT far in the past charges from now, not from the TAT.
    const auto d = decide(kNow - 3600 * kSecond, kNow, p, 1);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.tat, kNow + kSecond);
}

TEST(Gcra, CostAboveOneAndAboveTheLimit) {
    const auto p = params(40, 1min);
    const auto d = decide(0, kNow, p, 40);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.used, 40);
    const auto again = decide(d.tat, kNow, p, 5);
    EXPECT_FALSE(again.allowed);
    EXPECT_EQ(again.retry_after, 5 * p.interval);

    const auto huge = decide(0, kNow, p, 41);
    EXPECT_FALSE(huge.allowed);
    EXPECT_TRUE(huge.over_capacity);
    EXPECT_EQ(huge.used, 0);
}

TEST(Gcra, TtlCoversTheTatAndIsAtLeastOneMillisecond) {
    EXPECT_EQ(ttl_ms(kNow + 60 * kSecond, kNow), 60'000);
    EXPECT_EQ(ttl_ms(kNow + 1, kNow), 1);
    EXPECT_EQ(ttl_ms(kNow + 1'001, kNow), 2);
    EXPECT_EQ(ttl_ms(kNow, kNow), 1);
}

TEST(Gcra, MicrosecondInstantsStayExactAsDoubles) {
    // The Lua script holds these in doubles: they must be below 2^53 for centuries.
    const Micros year_2200 = 7'258'118'400'000'000;
    EXPECT_LT(year_2200 + params(1, kMaxPeriod).window(), Micros{1} << 53);
}

}  // namespace
}  // namespace mailwarden::ratelimit::gcra
