// memory_buckets.cpp - GCRA buckets in a hash map, swept by caller time.
#include "store/memory_buckets.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "ratelimit/gcra.hpp"

namespace mailwarden::store {

namespace gcra = ratelimit::gcra;

MemoryBucketStore::MemoryBucketStore(MemoryBucketOptions options) : options_(options) {
    options_.max_entries = std::max<std::size_t>(options_.max_entries, kMaxBucketsPerCheck);
}

util::Result<BucketOutcome> MemoryBucketStore::check_and_consume(
    std::span<const BucketRequest> requests, util::SystemTime now) {
    if (auto valid = validate_requests(requests); !valid) {
        return std::unexpected(valid.error());
    }
    std::lock_guard lock(mutex_);
    return summarize(evaluate(requests, gcra::to_micros(now), true), "local");
}

util::Result<std::vector<BucketUsage>> MemoryBucketStore::peek(
    std::span<const BucketRequest> requests, util::SystemTime now) {
    if (auto valid = validate_requests(requests); !valid) {
        return std::unexpected(valid.error());
    }
    std::lock_guard lock(mutex_);
    return evaluate(requests, gcra::to_micros(now), false);
}

std::size_t MemoryBucketStore::size() const {
    std::lock_guard lock(mutex_);
    return tat_.size();
}

std::vector<BucketUsage> MemoryBucketStore::evaluate(std::span<const BucketRequest> requests,
                                                     std::int64_t now_us, bool charge) {
    if (now_us - last_sweep_us_ >= options_.sweep_interval.count() * 1000 ||
        now_us < last_sweep_us_) {
        sweep(now_us);
    }
    auto stored = [&](const std::string& key) -> std::int64_t {
        const auto it = tat_.find(key);
        return it == tat_.end() ? 0 : it->second;
    };
    // TATs after the earlier requests' charges, for keys named more than once.
    std::unordered_map<std::string_view, std::int64_t> pending;
    std::vector<gcra::Decision> decisions;
    decisions.reserve(requests.size());
    bool all_allowed = true;
    for (const auto& r : requests) {
        const auto p = gcra::params(r.limit, r.period);
        const auto it = pending.find(r.key);
        const std::int64_t tat = it != pending.end() ? it->second : stored(r.key);
        const auto d = gcra::decide(tat, now_us, p, r.cost);
        if (d.allowed) {
            pending[r.key] = d.tat;
        }
        all_allowed = all_allowed && d.allowed;
        decisions.push_back(d);
    }
    std::vector<BucketUsage> out;
    out.reserve(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        const auto& d = decisions[i];
        BucketUsage u;
        u.key = r.key;
        u.allowed = d.allowed;
        u.limit = r.limit;
        u.over_capacity = d.over_capacity;
        u.retry_after = std::chrono::milliseconds(gcra::ceil_div(d.retry_after, 1000));
        // Usage after this call: charged only when every bucket allowed and charge is set.
        u.used = (charge && all_allowed)
                     ? d.used
                     : gcra::used(stored(r.key), now_us, gcra::params(r.limit, r.period));
        out.push_back(std::move(u));
    }
    if (charge && all_allowed) {
        make_room(pending.size());
        for (const auto& [key, tat] : pending) {
            tat_[std::string(key)] = tat;
        }
    }
    return out;
}

void MemoryBucketStore::sweep(std::int64_t now_us) {
    std::erase_if(tat_, [now_us](const auto& entry) { return entry.second <= now_us; });
    last_sweep_us_ = now_us;
}

void MemoryBucketStore::make_room(std::size_t needed) {
    if (tat_.size() + needed <= options_.max_entries) {
        return;
    }
    // Drop the eighth of the entries nearest to expiry: O(n), once per max_entries/8 inserts.
    std::vector<std::pair<std::int64_t, const std::string*>> by_tat;
    by_tat.reserve(tat_.size());
    for (const auto& [key, tat] : tat_) {
        by_tat.emplace_back(tat, &key);
    }
    const std::size_t drop = std::min(by_tat.size(), std::max(needed, options_.max_entries / 8));
    std::nth_element(by_tat.begin(), by_tat.begin() + static_cast<std::ptrdiff_t>(drop),
                     by_tat.end());
    std::vector<std::string> victims;
    victims.reserve(drop);
    for (std::size_t i = 0; i < drop; ++i) {
        victims.push_back(*by_tat[i].second);
    }
    for (const auto& key : victims) {
        tat_.erase(key);
    }
}

}  // namespace mailwarden::store
