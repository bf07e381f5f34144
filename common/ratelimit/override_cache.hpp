// override_cache.hpp - the store's per-login rate-limit overrides (`mailwardenctl override`)
// as the limiter reads them: a parsed snapshot of the whole OverrideStore, refreshed at most
// once per refresh interval of caller time, so a message costs no extra round trip and an
// override set on any node applies fleet-wide within that interval.
//
// A failed refresh keeps the last snapshot (one warning per change of state). Entries whose
// limits do not parse, or name one period twice, are skipped with a warning. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ratelimit/rule.hpp"
#include "store/override_store.hpp"
#include "util/clock.hpp"

namespace mailwarden::ratelimit {

/// "1000/1m,20000/1d" as windows; InvalidInput naming the part that is wrong, or when a
/// period appears twice.
util::Result<std::vector<Window>> parse_rates(std::string_view text);

/// Store overrides, cached.
class OverrideCache {
  public:
    OverrideCache(std::shared_ptr<store::OverrideStore> store, std::chrono::milliseconds refresh);

    /// Reloads from the store when the last load is `refresh` old (or never happened).
    void refresh_if_due(util::SystemTime now);
    /// Reloads now; the store's error when it failed (the old snapshot stays).
    util::Result<void> refresh(util::SystemTime now);
    /// The windows that replace `rule`'s for `login` (compared in lower case), if any.
    std::optional<std::vector<Window>> find(std::string_view rule, std::string_view login) const;

  private:
    using Snapshot = std::map<std::string, std::vector<Window>, std::less<>>;

    std::shared_ptr<store::OverrideStore> store_;
    std::chrono::milliseconds refresh_;
    mutable std::mutex mutex_;
    std::shared_ptr<const Snapshot> snapshot_ = std::make_shared<const Snapshot>();
    std::optional<util::SystemTime> loaded_at_;
    bool failing_ = false;
};

}  // namespace mailwarden::ratelimit
