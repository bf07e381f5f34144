// redis_buckets.hpp - rate-limit buckets in Redis, exact and atomic across a fleet of MTAs
// sharing one server (DESIGN.md "Redis data model").
//
// One check is one EVALSHA of scripts/gcra_check.lua (loaded once per connection pool,
// reloaded after NOSCRIPT): every bucket of the message is read, judged and, when all
// allow, charged inside Redis, so two MTAs can never both take the last unit. Bucket i
// lives at `{prefix}rl:{request.key}` as a string TAT with a PX TTL no longer than its
// window. Values and the caller's `now` go in ARGV. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/bucket_store.hpp"
#include "store/redis_pool.hpp"
#include "store/redis_store.hpp"

namespace mailwarden::store {

/// The text of scripts/gcra_check.lua (registered with ScriptRegistry as "gcra_check").
extern const std::string_view kGcraCheckLua;

/// BucketStore on a RedisStore (whose pool, scripts and key prefix it uses); `source` of
/// its outcomes is "redis". The RedisStore must outlive it.
class RedisBucketStore final : public BucketStore {
  public:
    explicit RedisBucketStore(RedisStore& redis);

    std::string_view kind() const override { return "redis"; }
    /// One EVALSHA (plus SCRIPT LOAD the first time); Unavailable / Timeout when Redis
    /// cannot be reached, PermFailure when the script failed (e.g. a key of the wrong type).
    util::Result<BucketOutcome> check_and_consume(std::span<const BucketRequest> requests,
                                                  util::SystemTime now) override;
    /// The same script in "peek" mode: one round trip, nothing written.
    util::Result<std::vector<BucketUsage>> peek(std::span<const BucketRequest> requests,
                                                util::SystemTime now) override;

    /// The Redis key of a bucket: `{prefix}rl:{bucket_key}`.
    std::string redis_key(std::string_view bucket_key) const;

  private:
    util::Result<std::vector<BucketUsage>> run(std::span<const BucketRequest> requests,
                                               util::SystemTime now, bool charge);

    RedisStore& redis_;
    Script script_;
};

}  // namespace mailwarden::store
