// bucket.hpp - what a bucket store is asked (BucketRequest) and what it answers
// (BucketOutcome, BucketUsage). Plain values, shared by the limiter and store/.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace mailwarden::ratelimit {

/// One bucket to check and charge: `cost` units against `limit` per `period`.
/// `key` names the bucket inside the store's rate-limit namespace ("rule:1m:subject");
/// build it with ratelimit::bucket_key(), which keeps it printable, bounded and injective.
struct BucketRequest {
    std::string key;
    std::int64_t limit = 0;
    std::chrono::milliseconds period{0};
    std::int64_t cost = 1;
};

/// The state of one bucket as a store saw it.
struct BucketUsage {
    std::string key;
    bool allowed = false;   ///< its `cost` units passed (check) or would pass (peek)
    std::int64_t used = 0;  ///< units in use: including this charge when it was made
    std::int64_t limit = 0;
    std::chrono::milliseconds retry_after{0};  ///< 0 when allowed; else until `cost` would pass
    bool over_capacity = false;                ///< cost > limit: can never pass
};

/// The answer to a multi-bucket check. All buckets were charged, or none was.
struct BucketOutcome {
    /// refused_index when nothing was refused.
    static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

    bool allowed = true;
    /// The refused bucket with the longest retry_after (lowest index on ties), or kNone.
    std::size_t refused_index = kNone;
    /// used and limit of the refused bucket; when allowed, of the fullest bucket (highest
    /// used/limit), or 0 and 0 without buckets.
    std::int64_t used = 0;
    std::int64_t limit = 0;
    /// Longest retry_after of the refused buckets; 0 when allowed.
    std::chrono::milliseconds retry_after{0};
    /// Which limiter answered: "redis" (shared by the fleet) or "local" (this node only).
    std::string source;
    /// Per request, in request order.
    std::vector<BucketUsage> buckets;
};

}  // namespace mailwarden::ratelimit
