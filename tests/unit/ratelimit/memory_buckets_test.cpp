// memory_buckets_test.cpp - MemoryBucketStore with a controlled clock: limits, refill,
// several windows, all-or-nothing charging, peek, validation, bounded memory, threads.
#include "store/memory_buckets.hpp"

#include <atomic>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_clock.hpp"
#include "support/matchers.hpp"

namespace mailwarden::store {
namespace {

using mailwarden::testing::FakeClock;
using mailwarden::testing::HasError;
using util::ErrorCode;
using namespace std::chrono_literals;

BucketRequest bucket(std::string key, std::int64_t limit, std::chrono::milliseconds period,
                     std::int64_t cost = 1) {
    return BucketRequest{std::move(key), limit, period, cost};
}

TEST(MemoryBuckets, AllowsTheLimitThenRefusesWithTheRetryTime) {
    FakeClock clock;
    MemoryBucketStore store;
    const std::vector<BucketRequest> req = {bucket("r:1m:alice", 30, 1min)};  // T = 2 s
    for (int i = 1; i <= 30; ++i) {
        auto out = store.check_and_consume(req, clock.now());
        ASSERT_TRUE(out.has_value());
        ASSERT_TRUE(out->allowed) << "message " << i;
        EXPECT_EQ(out->used, i);
        EXPECT_EQ(out->limit, 30);
        EXPECT_EQ(out->source, "local");
        EXPECT_EQ(out->refused_index, BucketOutcome::kNone);
    }
    auto out = store.check_and_consume(req, clock.now());
    ASSERT_TRUE(out.has_value());
    EXPECT_FALSE(out->allowed);
    EXPECT_EQ(out->refused_index, 0u);
    EXPECT_EQ(out->used, 30);
    EXPECT_EQ(out->retry_after, 2s);
    ASSERT_EQ(out->buckets.size(), 1u);
    EXPECT_FALSE(out->buckets[0].allowed);
    clock.advance(1500ms);
    out = store.check_and_consume(req, clock.now());
    EXPECT_FALSE(out->allowed);
    EXPECT_EQ(out->retry_after, 500ms);
    clock.advance(500ms);
    out = store.check_and_consume(req, clock.now());
    EXPECT_TRUE(out->allowed);
    EXPECT_EQ(out->used, 30);
}

TEST(MemoryBuckets, RefillsOneUnitPerIntervalAndFullyAfterTheWindow) {
    FakeClock clock;
    MemoryBucketStore store;
    const std::vector<BucketRequest> req = {bucket("r:1m:bob", 6, 1min)};  // T = 10 s
    for (int i = 0; i < 6; ++i) {
        ASSERT_TRUE(store.check_and_consume(req, clock.now())->allowed);
    }
    EXPECT_FALSE(store.check_and_consume(req, clock.now())->allowed);
    clock.advance(9s);
    EXPECT_FALSE(store.check_and_consume(req, clock.now())->allowed);
    clock.advance(1s);
    EXPECT_TRUE(store.check_and_consume(req, clock.now())->allowed);
    EXPECT_FALSE(store.check_and_consume(req, clock.now())->allowed);
    clock.advance(1min);
    for (int i = 0; i < 6; ++i) {
        EXPECT_TRUE(store.check_and_consume(req, clock.now())->allowed) << i;
    }
    EXPECT_FALSE(store.check_and_consume(req, clock.now())->allowed);
}

TEST(MemoryBuckets, SeveralWindowsTheTightestDecides) {
    FakeClock clock;
    MemoryBucketStore store;
    // 3 per minute and 5 per hour.
    const std::vector<BucketRequest> req = {bucket("r:1m:carol", 3, 1min),
                                            bucket("r:1h:carol", 5, 1h)};
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(store.check_and_consume(req, clock.now())->allowed);
    }
    auto out = store.check_and_consume(req, clock.now());
    EXPECT_FALSE(out->allowed);
    EXPECT_EQ(out->refused_index, 0u);  // the minute
    clock.advance(1min);
    ASSERT_TRUE(store.check_and_consume(req, clock.now())->allowed);
    ASSERT_TRUE(store.check_and_consume(req, clock.now())->allowed);
    out = store.check_and_consume(req, clock.now());
    EXPECT_FALSE(out->allowed);
    EXPECT_EQ(out->refused_index, 1u);  // now the hour: 5 used
    EXPECT_EQ(out->used, 5);
    EXPECT_EQ(out->limit, 5);
    EXPECT_GT(out->retry_after, 10min);
    clock.advance(1min);
    EXPECT_FALSE(store.check_and_consume(req, clock.now())->allowed);  // minute is free now
}

TEST(MemoryBuckets, ARefusedMessageChargesNoBucket) {
    FakeClock clock;
    MemoryBucketStore store;
    const std::vector<BucketRequest> full = {bucket("r:1m:full", 1, 1min)};
    ASSERT_TRUE(store.check_and_consume(full, clock.now())->allowed);

    const std::vector<BucketRequest> both = {
        bucket("r:1m:free", 2, 1min), bucket("r:1m:full", 1, 1min), bucket("r:1h:free", 2, 1h)};
    for (int i = 0; i < 5; ++i) {
        auto out = store.check_and_consume(both, clock.now());
        ASSERT_FALSE(out->allowed);
        EXPECT_EQ(out->refused_index, 1u);
        EXPECT_TRUE(out->buckets[0].allowed);  // would have passed alone...
        EXPECT_EQ(out->buckets[0].used, 0);    // ...but was not charged
        EXPECT_EQ(out->buckets[2].used, 0);
    }
    const std::vector<BucketRequest> free_only = {bucket("r:1m:free", 2, 1min)};
    auto out = store.check_and_consume(free_only, clock.now());
    ASSERT_TRUE(out->allowed);
    EXPECT_EQ(out->used, 1);  // first charge ever
}

TEST(MemoryBuckets, RecipientCostCountsEveryRecipient) {
    FakeClock clock;
    MemoryBucketStore store;
    const std::vector<BucketRequest> forty = {bucket("r:1h:rcpt", 100, 1h, 40)};
    EXPECT_TRUE(store.check_and_consume(forty, clock.now())->allowed);
    EXPECT_TRUE(store.check_and_consume(forty, clock.now())->allowed);
    auto out = store.check_and_consume(forty, clock.now());
    EXPECT_FALSE(out->allowed);
    EXPECT_EQ(out->used, 80);
    const std::vector<BucketRequest> twenty = {bucket("r:1h:rcpt", 100, 1h, 20)};
    out = store.check_and_consume(twenty, clock.now());
    EXPECT_TRUE(out->allowed);
    EXPECT_EQ(out->used, 100);

    const std::vector<BucketRequest> too_big = {bucket("r:1h:other", 10, 1h, 11)};
    out = store.check_and_consume(too_big, clock.now());
    EXPECT_FALSE(out->allowed);
    EXPECT_TRUE(out->buckets[0].over_capacity);
}

TEST(MemoryBuckets, AKeyNamedTwiceSeesItsEarlierCharge) {
    FakeClock clock;
    MemoryBucketStore store;
    const std::vector<BucketRequest> twice = {bucket("r:1m:x", 3, 1min, 2),
                                              bucket("r:1m:x", 3, 1min, 2)};
    EXPECT_FALSE(store.check_and_consume(twice, clock.now())->allowed);
    const std::vector<BucketRequest> ok = {bucket("r:1m:x", 3, 1min, 1),
                                           bucket("r:1m:x", 3, 1min, 2)};
    auto out = store.check_and_consume(ok, clock.now());
    EXPECT_TRUE(out->allowed);
    EXPECT_EQ(out->buckets[1].used, 3);
}

TEST(MemoryBuckets, PeekChargesNothing) {
    FakeClock clock;
    MemoryBucketStore store;
    const std::vector<BucketRequest> req = {bucket("r:1m:p", 2, 1min)};
    for (int i = 0; i < 10; ++i) {
        auto usage = store.peek(req, clock.now());
        ASSERT_TRUE(usage.has_value());
        EXPECT_TRUE((*usage)[0].allowed);
        EXPECT_EQ((*usage)[0].used, 0);
    }
    ASSERT_TRUE(store.check_and_consume(req, clock.now())->allowed);
    ASSERT_TRUE(store.check_and_consume(req, clock.now())->allowed);
    auto usage = store.peek(req, clock.now());
    EXPECT_FALSE((*usage)[0].allowed);
    EXPECT_EQ((*usage)[0].used, 2);
    EXPECT_EQ((*usage)[0].retry_after, 30s);
}

TEST(MemoryBuckets, RejectsInvalidRequests) {
    FakeClock clock;
    MemoryBucketStore store;
    const auto check = [&](BucketRequest r) {
        const std::vector<BucketRequest> req = {std::move(r)};
        return store.check_and_consume(req, clock.now());
    };
    EXPECT_THAT(check(bucket("", 1, 1min)), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(check(bucket("a b", 1, 1min)), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(check(bucket("a\r\nb", 1, 1min)), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(check(bucket(std::string(513, 'a'), 1, 1min)), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(check(bucket("k", 0, 1min)), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(check(bucket("k", 1, 10ms)), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(check(bucket("k", 1, 1min, 0)), HasError(ErrorCode::InvalidInput));
    std::vector<BucketRequest> many(kMaxBucketsPerCheck + 1, bucket("k", 1, 1min));
    EXPECT_THAT(store.check_and_consume(many, clock.now()), HasError(ErrorCode::InvalidInput));
    EXPECT_EQ(store.size(), 0u);
    // No buckets: trivially allowed.
    auto none = store.check_and_consume({}, clock.now());
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->allowed);
}

TEST(MemoryBuckets, ExpiredBucketsAreSweptSoMemoryStaysBounded) {
    FakeClock clock;
    MemoryBucketStore store(MemoryBucketOptions{1'000'000, 10s});
    for (int i = 0; i < 1000; ++i) {
        const std::vector<BucketRequest> req = {bucket(fmt::format("r:1m:login{}", i), 10, 1min)};
        ASSERT_TRUE(store.check_and_consume(req, clock.now())->allowed);
    }
    EXPECT_EQ(store.size(), 1000u);
    clock.advance(7s);  // T = 6 s: every bucket is empty again, but no sweep yet
    const std::vector<BucketRequest> one = {bucket("r:1m:new", 10, 1min)};
    ASSERT_TRUE(store.check_and_consume(one, clock.now())->allowed);
    EXPECT_EQ(store.size(), 1001u);
    clock.advance(4s);  // 11 s since the last sweep
    ASSERT_TRUE(store.check_and_consume(one, clock.now())->allowed);
    EXPECT_EQ(store.size(), 1u);
}

TEST(MemoryBuckets, AtCapacityTheBucketsNearestToExpiryGoFirst) {
    FakeClock clock;
    MemoryBucketStore store(MemoryBucketOptions{1024, 1h});
    const std::vector<BucketRequest> heavy = {bucket("r:1d:heavy", 100, 24h, 50)};
    ASSERT_TRUE(store.check_and_consume(heavy, clock.now())->allowed);
    for (int i = 0; i < 5000; ++i) {
        const std::vector<BucketRequest> req = {bucket(fmt::format("r:1m:l{}", i), 10, 1min)};
        ASSERT_TRUE(store.check_and_consume(req, clock.now())->allowed);
        ASSERT_LE(store.size(), 1024u);
    }
    // The long-lived, heavily used bucket survived the churn.
    auto usage = store.peek(heavy, clock.now());
    EXPECT_EQ((*usage)[0].used, 50);
}

TEST(MemoryBuckets, ThreadsTogetherGetExactlyTheLimit) {
    FakeClock clock;
    MemoryBucketStore store;
    const std::vector<BucketRequest> req = {bucket("r:1m:shared", 100, 1min),
                                            bucket("r:1d:shared", 1000, 24h)};
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                auto out = store.check_and_consume(req, clock.now());
                if (out && out->allowed) {
                    allowed.fetch_add(1);
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(allowed.load(), 100);
}

}  // namespace
}  // namespace mailwarden::store
