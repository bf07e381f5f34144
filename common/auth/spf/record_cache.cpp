// record_cache.cpp - TTL cache of fetched SPF records.
#include "auth/spf/record_cache.hpp"

#include <algorithm>

namespace mailwarden::auth::spf {

std::optional<FetchedRecord> RecordCache::find(std::string_view domain) const {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(std::string(domain));
    if (it == entries_.end() || it->second.expires <= clock_->now()) {
        return std::nullopt;
    }
    return it->second.fetched;
}

void RecordCache::store(std::string_view domain, FetchedRecord fetched, std::chrono::seconds ttl) {
    ttl = std::min(ttl, max_ttl_);
    if (ttl <= std::chrono::seconds::zero() || max_entries_ == 0) {
        return;
    }
    const auto now = clock_->now();
    std::lock_guard lock(mutex_);
    if (entries_.size() >= max_entries_ && !entries_.contains(std::string(domain))) {
        std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires <= now; });
        while (entries_.size() >= max_entries_) {
            entries_.erase(entries_.begin());  // bounded memory beats perfect LRU here
        }
    }
    entries_.insert_or_assign(std::string(domain), Entry{std::move(fetched), now + ttl});
}

void RecordCache::clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
}

std::size_t RecordCache::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace mailwarden::auth::spf
