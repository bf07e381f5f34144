// store_access.hpp - how mailwardenctl reaches the events: Redis directly when the config
// uses it, otherwise the running daemon's control API (the embedded store lives there).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

namespace mailwarden::ctl {

/// A read-only view of the events, wherever they are kept.
class EventSource {
  public:
    virtual ~EventSource() = default;
    /// Where the events come from, for messages ("redis 127.0.0.1:6379", "daemon ...").
    virtual std::string describe() const = 0;
    virtual util::Result<std::vector<store::Event>> query(const store::EventQuery& q) = 0;
};

/// Loads the config at `config_path` and opens its event source: RedisStore for
/// `store.backend: redis`, else the daemon's control API at `control.listen`.
util::Result<std::unique_ptr<EventSource>> open_event_source(const std::string& config_path);

}  // namespace mailwarden::ctl
