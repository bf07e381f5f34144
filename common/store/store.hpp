// store.hpp - the Store interface: where events, counters (and, with the rate limiter,
// buckets and account state) live. MemoryStore is the embedded default for one MTA;
// RedisStore shares everything across a fleet.
//
// Every method is thread-safe and bounded in time (RedisStore: connect and command
// timeouts). Failures are values: Unavailable when the backend cannot be reached, Timeout
// when it did not answer in time; callers decide the degraded mode.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/event.hpp"
#include "store/failure_stats.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace mailwarden::store {

/// Which events `query_events` returns: all given filters must match.
struct EventQuery {
    std::optional<std::string> sender;      ///< exact envelope sender (case-insensitive)
    std::optional<std::string> login;       ///< exact SASL login
    std::optional<std::string> code;        ///< prefix of "basic enhanced", e.g. "550", "5.7"
    std::optional<std::string> queue_id;    ///< exact queue id
    std::optional<util::SystemTime> since;  ///< event time >= since
    std::optional<util::SystemTime> until;  ///< event time <= until
    std::size_t limit = 100;                ///< newest first, at most this many
};

/// Hourly counters by enhanced code (or basic code when there is none).
using CodeCounts = std::map<std::string, std::int64_t>;

/// Storage of events and counters. Implementations: MemoryStore, RedisStore.
class Store {
  public:
    virtual ~Store() = default;

    /// "memory" or "redis", for logs and `mailwardenctl status`.
    virtual std::string_view kind() const = 0;

    /// Cheap health check; ok when the backend answers.
    virtual util::Result<void> ping() = 0;

    /// Appends events (in order) and bumps the per-hour code counters for each; all or
    /// nothing as far as the backend allows (RedisStore: one pipelined round trip). On
    /// failure the caller still owns the events (EventRecorder journals them).
    virtual util::Result<void> append_events(std::span<const Event> events) = 0;

    /// Events matching `query`, newest first.
    virtual util::Result<std::vector<Event>> query_events(const EventQuery& query) = 0;

    /// Code counters of the hour that contains `hour`.
    virtual util::Result<CodeCounts> code_counts(util::SystemTime hour) = 0;

    // Outgoing-failure analytics, written by append_events for "outgoing_failure" events.
    /// Counts by `dimension` of the outgoing failures in the hour that contains `hour`.
    /// The default (a store without analytics) is Unavailable.
    virtual util::Result<FailureCounts> failure_counts(FailureDimension dimension,
                                                       util::SystemTime hour);
    /// The newest outgoing failures (at most `limit`, at most kRecentFailuresPerOwner) of
    /// a sender, login or recipient domain, newest first. Default: Unavailable.
    virtual util::Result<std::vector<Event>> recent_failures(FailureOwner owner,
                                                             std::string_view who,
                                                             std::size_t limit);
};

/// The counter key of an event: its enhanced code if any, else its basic code, else
/// its action ("quarantine" has no code).
std::string counter_key(const Event& event);

/// True when `event` matches every filter of `query` except `limit`. `code` matches when
/// it is a prefix of the basic code, of the enhanced code, or of "basic enhanced".
bool matches(const Event& event, const EventQuery& query);

}  // namespace mailwarden::store
