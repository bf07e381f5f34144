// override_store.hpp - per-login rate-limit overrides set at run time with
// `mailwardenctl override LOGIN RULE LIMITS` (DESIGN.md "Redis data model": `mw:overrides`).
//
// An override replaces the windows of one rule for one login ("1000/1m,20000/1d"); it wins
// over the config's overrides. The store keeps the limits as text (the rate limiter parses
// and checks them); the number of overrides is capped (kMaxOverrides) so the hash stays
// bounded, and overrides have no TTL: they are the admin's settings. Implementations:
// MemoryOverrideStore (the embedded store), RedisOverrideStore. Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.hpp"
#include "util/error.hpp"

namespace mailwarden::store {

/// Most overrides kept; setting one more is InvalidInput.
inline constexpr std::size_t kMaxOverrides = 10'000;
/// Longest limits text ("1000/1m,20000/1d") kept.
inline constexpr std::size_t kMaxOverrideLimitsBytes = 256;

/// One rule's windows replaced for one login.
struct LimitOverride {
    std::string rule;    ///< rule name ([A-Za-z0-9_-], no ':')
    std::string login;   ///< lower case
    std::string limits;  ///< comma-separated rates, as in config ("1000/1m,20000/1d")
    std::string by;      ///< who set it ("admin:root")
    util::SystemTime set_at{};
    friend bool operator==(const LimitOverride&, const LimitOverride&) = default;
};

/// InvalidInput unless the rule is 1..64 bytes of [A-Za-z0-9_-], the login 1..1024 bytes,
/// and the limits 1..kMaxOverrideLimitsBytes printable ASCII bytes.
util::Result<void> validate_override(const LimitOverride& o);

/// Rate-limit overrides. Thread-safe.
class OverrideStore {
  public:
    virtual ~OverrideStore() = default;
    virtual std::string_view kind() const = 0;
    /// Every override (at most kMaxOverrides), sorted by rule then login.
    virtual util::Result<std::vector<LimitOverride>> list() = 0;
    /// Sets (or replaces) the override of o.rule for o.login (lower-cased). InvalidInput when
    /// invalid or when kMaxOverrides others exist.
    virtual util::Result<void> set(const LimitOverride& o) = 0;
    /// Removes it; false when there was none.
    virtual util::Result<bool> remove(std::string_view rule, std::string_view login) = 0;
};

/// Overrides in this process.
class MemoryOverrideStore final : public OverrideStore {
  public:
    std::string_view kind() const override { return "memory"; }
    util::Result<std::vector<LimitOverride>> list() override;
    util::Result<void> set(const LimitOverride& o) override;
    util::Result<bool> remove(std::string_view rule, std::string_view login) override;

  private:
    std::mutex mutex_;
    std::map<std::string, LimitOverride> by_field_;  // by override_field: rule, then login
};

/// The hash field of an override: "{rule}:{login}" (rule names have no ':').
std::string override_field(std::string_view rule, std::string_view login);

}  // namespace mailwarden::store
