// memory_store.cpp - MemoryStore: a mutex-guarded ring of events and hourly counters.
//
// The ring is a deque trimmed to event_capacity on every append; hour buckets older than
// counter_retention (relative to the clock) are dropped on append, and at most
// kMaxHourBuckets are kept so events with absurd future times cannot grow memory.
#include "store/memory_store.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "util/ascii.hpp"

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
    while (!failure_counters_.empty() &&
           (failure_counters_.begin()->first < oldest ||
            failure_counters_.size() > max_hour_buckets(options_.counter_retention))) {
        failure_counters_.erase(failure_counters_.begin());
    }
}

void MemoryStore::add_failure(const Event& event) {
    auto& hour = failure_counters_[std::chrono::floor<std::chrono::hours>(event.time)];
    for (FailureDimension dimension : kFailureDimensions) {
        if (std::string value = failure_value(event, dimension); !value.empty()) {
            hour[dimension][value] += 1;
        }
    }
    for (auto& owner : failure_owners(event)) {
        auto& list = recent_[owner];
        list.push_front(event);
        while (list.size() > kRecentFailuresPerOwner) {
            list.pop_back();
        }
        // Move the owner to the back of the update order (linear in the rare case).
        if (auto it = std::find(recent_order_.rbegin(), recent_order_.rend(), owner);
            it != recent_order_.rend()) {
            recent_order_.erase(std::next(it).base());
        }
        recent_order_.push_back(std::move(owner));
    }
    while (recent_order_.size() > kMaxFailureOwners) {
        recent_.erase(recent_order_.front());
        recent_order_.pop_front();
    }
}

util::Result<void> MemoryStore::append_events(std::span<const Event> events) {
    const util::SystemTime now = clock_->now();
    std::lock_guard lock(mutex_);
    for (const Event& event : events) {
        Event stored = event;
        stored.id = next_id(now);
        counters_[std::chrono::floor<std::chrono::hours>(event.time)][counter_key(event)] += 1;
        if (is_outgoing_failure(stored)) {
            add_failure(stored);
        }
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

util::Result<FailureCounts> MemoryStore::failure_counts(FailureDimension dimension,
                                                        util::SystemTime hour) {
    const util::SystemTime now = clock_->now();
    std::lock_guard lock(mutex_);
    expire_counters(now);
    auto it = failure_counters_.find(std::chrono::floor<std::chrono::hours>(hour));
    if (it == failure_counters_.end()) {
        return FailureCounts{};
    }
    auto d = it->second.find(dimension);
    return d == it->second.end() ? FailureCounts{} : d->second;
}

util::Result<std::vector<Event>> MemoryStore::recent_failures(FailureOwner owner,
                                                              std::string_view who,
                                                              std::size_t limit) {
    const std::string id = owner == FailureOwner::Login ? std::string(who) : util::to_lower(who);
    std::lock_guard lock(mutex_);
    std::vector<Event> out;
    auto it = recent_.find({owner, id});
    if (it == recent_.end()) {
        return out;
    }
    for (const Event& e : it->second) {
        if (out.size() >= limit) {
            break;
        }
        out.push_back(e);
    }
    return out;
}

std::size_t MemoryStore::size() const {
    std::lock_guard lock(mutex_);
    return events_.size();
}

}  // namespace mailwarden::store
