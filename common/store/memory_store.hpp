// memory_store.hpp - the embedded Store for a single MTA with no Redis: events in a
// bounded ring buffer, code counters per hour kept for a bounded retention.
//
// Thread-safe (one mutex); every operation is O(capacity) at worst and never fails, so
// the degraded modes of the Redis path never apply. Contents are lost on restart.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "store/store.hpp"
#include "util/clock.hpp"

namespace mailwarden::store {

/// Bounds of a MemoryStore.
struct MemoryStoreOptions {
    std::size_t event_capacity = 10'000;            ///< newest events kept; older ones drop
    std::chrono::hours counter_retention{35 * 24};  ///< hour counters older than this drop
    /// Time source for ids and counter expiry; nullptr means the system clock.
    std::shared_ptr<const util::Clock> clock;
};

/// Most senders, logins and domains whose recent failures a MemoryStore keeps.
inline constexpr std::size_t kMaxFailureOwners = 10'000;

/// In-process Store. Event ids look like Redis stream ids ("<ms>-<seq>"), increasing.
class MemoryStore final : public Store {
  public:
    explicit MemoryStore(MemoryStoreOptions options = {});

    std::string_view kind() const override { return "memory"; }
    util::Result<void> ping() override { return {}; }
    /// Always succeeds; when full, the oldest events are overwritten.
    util::Result<void> append_events(std::span<const Event> events) override;
    util::Result<std::vector<Event>> query_events(const EventQuery& query) override;
    util::Result<CodeCounts> code_counts(util::SystemTime hour) override;
    util::Result<FailureCounts> failure_counts(FailureDimension dimension,
                                               util::SystemTime hour) override;
    util::Result<std::vector<Event>> recent_failures(FailureOwner owner, std::string_view who,
                                                     std::size_t limit) override;

    /// Number of events held (at most event_capacity).
    std::size_t size() const;

  private:
    using Hour = std::chrono::time_point<std::chrono::system_clock, std::chrono::hours>;

    std::string next_id(util::SystemTime now);
    void expire_counters(util::SystemTime now);
    void add_failure(const Event& event);

    MemoryStoreOptions options_;
    std::shared_ptr<const util::Clock> clock_;
    mutable std::mutex mutex_;
    std::deque<Event> events_;  // oldest first
    std::map<Hour, CodeCounts> counters_;
    /// Outgoing failures: per hour, per dimension (same retention as counters_).
    std::map<Hour, std::map<FailureDimension, FailureCounts>> failure_counters_;
    /// Recent failures per (owner kind, id), newest first, each capped; at most
    /// kMaxFailureOwners ids, the least recently updated dropped first.
    std::map<std::pair<FailureOwner, std::string>, std::deque<Event>> recent_;
    std::deque<std::pair<FailureOwner, std::string>> recent_order_;  // oldest update first
    std::int64_t last_ms_ = 0;
    std::uint64_t sequence_ = 0;
};

}  // namespace mailwarden::store
