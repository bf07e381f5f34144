// fallback_buckets.hpp - the fleet's limiter (Redis) while it answers, this node's own
// limiter while it does not (DESIGN.md "Failure behaviour").
//
// While Redis fails, checks are answered by a MemoryBucketStore at once (no waiting on a
// dead server per message) and Redis is tried again at most once per retry_interval of
// caller time, by one thread; the first success switches back. Each switch logs one
// warning. Outcomes say who answered (`source` "redis" or "local"). Usage counted locally
// is not copied to Redis: after an outage each node briefly allows up to its own limit.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "store/bucket_store.hpp"
#include "store/memory_buckets.hpp"

namespace mailwarden::store {

/// Tuning of a FallbackBucketStore.
struct FallbackBucketOptions {
    std::chrono::milliseconds retry_interval{1'000};  ///< between attempts while Redis is down
    MemoryBucketOptions local;                        ///< bounds of the local limiter
};

/// BucketStore that prefers `shared` and falls back to a local MemoryBucketStore.
class FallbackBucketStore final : public BucketStore {
  public:
    /// `shared` (normally a RedisBucketStore) must outlive this store.
    explicit FallbackBucketStore(BucketStore& shared, FallbackBucketOptions options = {});

    std::string_view kind() const override { return "fallback"; }
    /// The shared store's answer, or the local one's when the shared store failed (any
    /// error except InvalidInput, which is returned) or is in its retry pause.
    util::Result<BucketOutcome> check_and_consume(std::span<const BucketRequest> requests,
                                                  util::SystemTime now) override;
    /// As check_and_consume, charging nothing.
    util::Result<std::vector<BucketUsage>> peek(std::span<const BucketRequest> requests,
                                                util::SystemTime now) override;

    /// True while the local limiter answers.
    bool degraded() const;
    /// The local limiter (for tests and `status`).
    MemoryBucketStore& local() { return local_; }

  private:
    enum class Attempt { Shared, Probe, Local };
    // Whom this call asks: the shared store, the shared store as the one retry while
    // degraded (sets probing_), or only the local limiter.
    Attempt attempt(util::SystemTime now);
    // Records the result of a call to the shared store; logs on a change of state.
    void record(bool ok, bool was_probe, util::SystemTime now, const util::Error* error);

    BucketStore& shared_;
    FallbackBucketOptions options_;
    MemoryBucketStore local_;
    mutable std::mutex mutex_;
    bool degraded_ = false;
    bool probing_ = false;
    util::SystemTime next_probe_{};
};

}  // namespace mailwarden::store
