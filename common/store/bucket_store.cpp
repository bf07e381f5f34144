// bucket_store.cpp - request validation and outcome summary shared by the bucket stores.
#include "store/bucket_store.hpp"

#include <fmt/format.h>

#include "ratelimit/gcra.hpp"

namespace mailwarden::store {

namespace gcra = ratelimit::gcra;
using util::ErrorCode;

util::Result<void> validate_requests(std::span<const BucketRequest> requests) {
    if (requests.size() > kMaxBucketsPerCheck) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("{} rate-limit buckets in one check; at most {}",
                                      requests.size(), kMaxBucketsPerCheck));
    }
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        if (r.key.empty() || r.key.size() > kMaxBucketKeyBytes) {
            return util::fail(ErrorCode::InvalidInput,
                              fmt::format("rate-limit bucket {}: key of {} bytes; 1 to {} allowed",
                                          i, r.key.size(), kMaxBucketKeyBytes));
        }
        for (char c : r.key) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x21 || u > 0x7e) {
                return util::fail(ErrorCode::InvalidInput,
                                  fmt::format("rate-limit bucket {}: key has byte 0x{:02x}; only "
                                              "printable ASCII is allowed",
                                              i, u));
            }
        }
        if (r.limit < 1 || r.limit > gcra::kMaxLimit) {
            return util::fail(ErrorCode::InvalidInput,
                              fmt::format("rate-limit bucket {}: limit {} outside 1..{}", i,
                                          r.limit, gcra::kMaxLimit));
        }
        if (r.period < gcra::kMinPeriod || r.period > gcra::kMaxPeriod) {
            return util::fail(
                ErrorCode::InvalidInput,
                fmt::format("rate-limit bucket {}: period {} ms outside {}..{} ms", i,
                            r.period.count(), gcra::kMinPeriod.count(), gcra::kMaxPeriod.count()));
        }
        if (r.cost < 1 || r.cost > gcra::kMaxLimit) {
            return util::fail(ErrorCode::InvalidInput,
                              fmt::format("rate-limit bucket {}: cost {} outside 1..{}", i, r.cost,
                                          gcra::kMaxLimit));
        }
    }
    return {};
}

BucketOutcome summarize(std::vector<BucketUsage> buckets, std::string_view source) {
    BucketOutcome out;
    out.source = std::string(source);
    double fullest = -1.0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        const auto& b = buckets[i];
        if (!b.allowed) {
            if (out.allowed || b.retry_after > out.retry_after) {
                out.refused_index = i;
                out.retry_after = b.retry_after;
                out.used = b.used;
                out.limit = b.limit;
            }
            out.allowed = false;
        } else if (out.allowed) {
            const double share = static_cast<double>(b.used) / static_cast<double>(b.limit);
            if (share > fullest) {
                fullest = share;
                out.used = b.used;
                out.limit = b.limit;
            }
        }
    }
    out.buckets = std::move(buckets);
    return out;
}

}  // namespace mailwarden::store
