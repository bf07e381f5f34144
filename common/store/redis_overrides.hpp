// redis_overrides.hpp - rate-limit overrides in the `mw:overrides` hash, shared by the fleet:
// field "{rule}:{login}", value a JSON object {limits, by, set_at_ms}. Capped at
// kMaxOverrides fields (checked before each new one); no TTL (admin settings). Thread-safe.
#pragma once

#include "store/override_store.hpp"
#include "store/redis_store.hpp"

namespace mailwarden::store {

/// OverrideStore on a RedisStore, which must outlive it.
class RedisOverrideStore final : public OverrideStore {
  public:
    explicit RedisOverrideStore(RedisStore& redis) : redis_(redis) {}
    std::string_view kind() const override { return "redis"; }
    /// HGETALL; entries that are not valid JSON are skipped.
    util::Result<std::vector<LimitOverride>> list() override;
    /// HEXISTS and HLEN, then HSET.
    util::Result<void> set(const LimitOverride& o) override;
    /// HDEL.
    util::Result<bool> remove(std::string_view rule, std::string_view login) override;

  private:
    RedisStore& redis_;
};

}  // namespace mailwarden::store
