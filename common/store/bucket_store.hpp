// bucket_store.hpp - the interface of rate-limit state: GCRA buckets checked and charged
// atomically, several at once (DESIGN.md "Redis data model": `mw:rl:{rule}:{key}`).
//
// Implementations: MemoryBucketStore (one node), RedisBucketStore (a fleet sharing one
// Redis), FallbackBucketStore (Redis, or the local one while Redis is unreachable). All
// share the ratelimit/gcra.hpp formulas, so they give the same answers for the same
// requests. The caller always supplies `now`.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "ratelimit/bucket.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace mailwarden::store {

using ratelimit::BucketOutcome;
using ratelimit::BucketRequest;
using ratelimit::BucketUsage;

/// Most buckets in one call (a message touches a handful; this bounds a script run).
inline constexpr std::size_t kMaxBucketsPerCheck = 256;
/// Longest bucket key (ratelimit::bucket_key stays far below).
inline constexpr std::size_t kMaxBucketKeyBytes = 512;

/// Rate-limit buckets. Thread-safe.
class BucketStore {
  public:
    virtual ~BucketStore() = default;

    /// "memory", "redis" or "fallback", for logs and `status`.
    virtual std::string_view kind() const = 0;

    /// Checks every bucket at `now` and charges all of them when each allows its cost, in
    /// one atomic step (one round trip for Redis). A request refused by one bucket charges
    /// none. Buckets are taken in order: a key named twice sees the earlier charge.
    /// InvalidInput for requests that fail validate_requests; Unavailable / Timeout /
    /// PermFailure when the backend failed (nothing was charged, or for a connection lost
    /// mid-call, possibly everything).
    virtual util::Result<BucketOutcome> check_and_consume(std::span<const BucketRequest> requests,
                                                          util::SystemTime now) = 0;

    /// The same evaluation without charging anything (`mailwardenctl limits --dry-run`):
    /// per request, whether its cost would pass now and the usage.
    virtual util::Result<std::vector<BucketUsage>> peek(std::span<const BucketRequest> requests,
                                                        util::SystemTime now) = 0;
};

/// InvalidInput unless there are at most kMaxBucketsPerCheck requests, each with a key of
/// 1..kMaxBucketKeyBytes printable ASCII bytes (0x21-0x7e), limit within
/// 1..gcra::kMaxLimit, period within gcra::kMinPeriod..kMaxPeriod, and cost >= 1.
util::Result<void> validate_requests(std::span<const BucketRequest> requests);

/// Builds the outcome of a check from per-bucket usages (in request order): allowed when
/// all are, the refused bucket with the longest retry, or the fullest bucket when allowed.
BucketOutcome summarize(std::vector<BucketUsage> buckets, std::string_view source);

}  // namespace mailwarden::store
