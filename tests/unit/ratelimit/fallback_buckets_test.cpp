// fallback_buckets_test.cpp - FallbackBucketStore over a shared store that can be made to
// fail: the local limiter answers at once, Redis is retried once per interval, one
// warning per change of state, and the shared store answers again when it is back.
#include "store/fallback_buckets.hpp"

#include <atomic>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "support/fake_clock.hpp"
#include "support/matchers.hpp"

namespace mailwarden::store {
namespace {

using mailwarden::testing::FakeClock;
using mailwarden::testing::HasError;
using util::ErrorCode;
using namespace std::chrono_literals;

// A shared store that is a MemoryBucketStore answering as "redis", or down.
class FlakyStore final : public BucketStore {
  public:
    std::string_view kind() const override { return "redis"; }
    util::Result<BucketOutcome> check_and_consume(std::span<const BucketRequest> requests,
                                                  util::SystemTime now) override {
        ++calls;
        if (down) {
            return util::fail(ErrorCode::Unavailable, "connection refused");
        }
        auto out = inner.check_and_consume(requests, now);
        if (out) {
            out->source = "redis";
        }
        return out;
    }
    util::Result<std::vector<BucketUsage>> peek(std::span<const BucketRequest> requests,
                                                util::SystemTime now) override {
        ++calls;
        if (down) {
            return util::fail(ErrorCode::Timeout, "no answer");
        }
        return inner.peek(requests, now);
    }

    std::atomic<bool> down{false};
    std::atomic<int> calls{0};
    MemoryBucketStore inner;
};

// Captures warnings of the default logger for the life of the object.
class LogCapture {
  public:
    LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100)) {
        previous_ = spdlog::default_logger();
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
    }
    ~LogCapture() { spdlog::set_default_logger(previous_); }
    std::vector<std::string> lines() const { return sink_->last_formatted(); }

  private:
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
    std::shared_ptr<spdlog::logger> previous_;
};

const std::vector<BucketRequest> kOne = {
    BucketRequest{"r:1m:alice", 3, std::chrono::minutes(1), 1}};

TEST(FallbackBuckets, LocalLimiterAnswersWhileTheSharedStoreIsDown) {
    LogCapture log;
    FakeClock clock;
    FlakyStore shared;
    FallbackBucketStore store(shared, FallbackBucketOptions{5s, {}});

    auto out = store.check_and_consume(kOne, clock.now());
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->source, "redis");
    EXPECT_FALSE(store.degraded());

    shared.down = true;
    for (int i = 0; i < 5; ++i) {
        out = store.check_and_consume(kOne, clock.now());
        ASSERT_TRUE(out.has_value());
        EXPECT_EQ(out->source, "local");
        EXPECT_EQ(out->allowed, i < 3) << i;  // the local limiter enforces the limit too
    }
    EXPECT_TRUE(store.degraded());
    EXPECT_EQ(shared.calls.load(), 2);  // the failure, then no retry within 5 s

    clock.advance(5s);
    out = store.check_and_consume(kOne, clock.now());
    EXPECT_EQ(out->source, "local");  // one retry, still down
    EXPECT_EQ(shared.calls.load(), 3);
    EXPECT_EQ(store.check_and_consume(kOne, clock.now())->source, "local");
    EXPECT_EQ(shared.calls.load(), 3);

    shared.down = false;
    clock.advance(5s);
    out = store.check_and_consume(kOne, clock.now());
    EXPECT_EQ(out->source, "redis");
    EXPECT_FALSE(store.degraded());
    EXPECT_EQ(store.check_and_consume(kOne, clock.now())->source, "redis");

    const auto lines = log.lines();
    ASSERT_EQ(lines.size(), 2u);  // one per change of state, not one per message
    EXPECT_THAT(lines[0], ::testing::HasSubstr("redis failed (connection refused)"));
    EXPECT_THAT(lines[0], ::testing::HasSubstr("local limiter"));
    EXPECT_THAT(lines[1], ::testing::HasSubstr("answers again"));
}

TEST(FallbackBuckets, PeekFallsBackTooAndInvalidInputIsNotAnOutage) {
    LogCapture log;
    FakeClock clock;
    FlakyStore shared;
    FallbackBucketStore store(shared);
    shared.down = true;
    auto usage = store.peek(kOne, clock.now());
    ASSERT_TRUE(usage.has_value());
    EXPECT_TRUE(store.degraded());

    shared.down = false;
    clock.advance(1s);
    const std::vector<BucketRequest> bad = {
        BucketRequest{"bad key", 1, std::chrono::minutes(1), 1}};
    EXPECT_THAT(store.check_and_consume(bad, clock.now()), HasError(ErrorCode::InvalidInput));
    EXPECT_TRUE(store.degraded());  // invalid input says nothing about the shared store
    EXPECT_EQ(store.check_and_consume(kOne, clock.now())->source, "redis");
}

}  // namespace
}  // namespace mailwarden::store
