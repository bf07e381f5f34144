// memory_buckets.hpp - rate-limit buckets in this process: the limiter of a single node,
// and the fallback of a fleet while Redis is unreachable.
//
// Thread-safe: one mutex, held for a whole multi-bucket check, so a check is atomic.
// Memory is bounded: an entry whose TAT is past is the same as no entry and is swept
// (every sweep_interval of caller time); above max_entries the entries nearest to expiry
// are dropped first (a dropped bucket forgets its usage, so it is the least harmful loss).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/bucket_store.hpp"

namespace mailwarden::store {

/// Bounds of a MemoryBucketStore.
struct MemoryBucketOptions {
    std::size_t max_entries = 1'000'000;               ///< buckets tracked at most
    std::chrono::milliseconds sweep_interval{10'000};  ///< caller time between sweeps
};

/// In-process BucketStore; `source` of its outcomes is "local".
class MemoryBucketStore final : public BucketStore {
  public:
    explicit MemoryBucketStore(MemoryBucketOptions options = {});

    std::string_view kind() const override { return "memory"; }
    util::Result<BucketOutcome> check_and_consume(std::span<const BucketRequest> requests,
                                                  util::SystemTime now) override;
    util::Result<std::vector<BucketUsage>> peek(std::span<const BucketRequest> requests,
                                                util::SystemTime now) override;

    /// Buckets tracked now (including expired ones not yet swept).
    std::size_t size() const;

  private:
    // Evaluates requests in order against the map (plus the earlier requests' charges);
    // charges when `charge` and every bucket allows. Called with mutex_ held.
    std::vector<BucketUsage> evaluate(std::span<const BucketRequest> requests, std::int64_t now_us,
                                      bool charge);
    void sweep(std::int64_t now_us);
    void make_room(std::size_t needed);

    MemoryBucketOptions options_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::int64_t> tat_;  // key -> TAT (us since epoch)
    std::int64_t last_sweep_us_ = 0;
};

}  // namespace mailwarden::store
