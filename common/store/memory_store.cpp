// memory_store.cpp - MemoryStore: a mutex-guarded ring of events and hourly counters.
//
// The ring is a deque trimmed to event_capacity on every append; hour buckets older than
// counter_retention (relative to the clock) are dropped on append, and at most
// kMaxHourBuckets are kept so events with absurd future times cannot grow memory.
#include "store/memory_store.hpp"

#include <fmt/format.h>

namespace mailwarden::store {
namespace {

// Retention in hours plus a day of slack for events stamped slightly in the future.
std::size_t max_hour_buckets(std::chrono::hours retention) {
    return static_cast<std::size_t>(retention.count()) + 24;
}

}  // namespace

MemoryStore::MemoryStore(MemoryStoreOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : std::make_shared<util::SystemClock>()) {
    if (options_.event_capacity == 0) {
        options_.event_capacity = 1;
    }
}

std::string MemoryStore::next_id(util::SystemTime now) {
    const std::int64_t ms = to_unix_ms(now);
    if (ms > last_ms_) {
        last_ms_ = ms;
        sequence_ = 0;
    } else {
        ++sequence_;
    }
    return fmt::format("{}-{}", last_ms_, sequence_);
}

void MemoryStore::expire_counters(util::SystemTime now) {
    const Hour oldest = std::chrono::floor<std::chrono::hours>(now) - options_.counter_retention;
    while (!counters_.empty() && counters_.begin()->first < oldest) {
        counters_.erase(counters_.begin());
    }
    while (counters_.size() > max_hour_buckets(options_.counter_retention)) {
        counters_.erase(counters_.begin());
    }
}

util::Result<void> MemoryStore::append_events(std::span<const Event> events) {
    const util::SystemTime now = clock_->now();
    std::lock_guard lock(mutex_);
    for (const Event& event : events) {
        Event stored = event;
        stored.id = next_id(now);
        counters_[std::chrono::floor<std::chrono::hours>(event.time)][counter_key(event)] += 1;
        events_.push_back(std::move(stored));
        while (events_.size() > options_.event_capacity) {
            events_.pop_front();
        }
    }
    expire_counters(now);
    return {};
}

util::Result<std::vector<Event>> MemoryStore::query_events(const EventQuery& query) {
    std::vector<Event> out;
    std::lock_guard lock(mutex_);
    for (auto it = events_.rbegin(); it != events_.rend() && out.size() < query.limit; ++it) {
        if (matches(*it, query)) {
            out.push_back(*it);
        }
    }
    return out;
}

util::Result<CodeCounts> MemoryStore::code_counts(util::SystemTime hour) {
    const util::SystemTime now = clock_->now();
    std::lock_guard lock(mutex_);
    expire_counters(now);
    auto it = counters_.find(std::chrono::floor<std::chrono::hours>(hour));
    if (it == counters_.end()) {
        return CodeCounts{};
    }
    return it->second;
}

std::size_t MemoryStore::size() const {
    std::lock_guard lock(mutex_);
    return events_.size();
}

}  // namespace mailwarden::store
