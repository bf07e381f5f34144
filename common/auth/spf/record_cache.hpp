// record_cache.hpp - a small per-process cache of fetched SPF records, keyed by domain.
//
// Holds the outcome of "fetch and parse the SPF record of D" (a parsed record, "no record",
// or a permanent error) until its DNS TTL (capped by max_ttl) runs out; temporary errors
// are never cached. Bounded by max_entries. Thread-safe (one mutex). Never throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/spf/record.hpp"
#include "util/clock.hpp"

namespace mailwarden::auth::spf {

/// What looking up a domain's SPF record gave, as the evaluator caches it.
struct FetchedRecord {
    enum class Kind {
        Found,      ///< exactly one SPF record, parsed: `record` is set
        NoRecord,   ///< NXDOMAIN, or no "v=spf1" TXT record (RFC 7208 §4.5: none)
        Multiple,   ///< more than one SPF record (RFC 7208 §4.5: permerror)
        Malformed,  ///< the record does not parse (RFC 7208 §4.6: permerror); see `error`
    };
    Kind kind = Kind::NoRecord;
    std::shared_ptr<const Record> record;
    SyntaxError error;
    std::string text;  ///< the record text (Found, Malformed)
};

/// Thread-safe TTL cache of FetchedRecord by lower-case domain.
class RecordCache {
  public:
    /// `max_entries` bounds memory; `max_ttl` caps how long anything is kept.
    RecordCache(const util::Clock& clock, std::size_t max_entries = kDefaultMaxEntries,
                std::chrono::seconds max_ttl = kDefaultMaxTtl)
        : clock_(&clock), max_entries_(max_entries), max_ttl_(max_ttl) {}

    /// The cached outcome for `domain` if present and not expired.
    std::optional<FetchedRecord> find(std::string_view domain) const;
    /// Stores `fetched` for min(ttl, max_ttl); a zero TTL stores nothing.
    void store(std::string_view domain, FetchedRecord fetched, std::chrono::seconds ttl);
    /// Drops everything.
    void clear();
    /// Entries currently held (expired ones included until evicted).
    std::size_t size() const;

    static constexpr std::size_t kDefaultMaxEntries = 10'000;
    static constexpr std::chrono::seconds kDefaultMaxTtl{3600};

  private:
    struct Entry {
        FetchedRecord fetched;
        util::SystemTime expires;
    };
    const util::Clock* clock_;
    std::size_t max_entries_;
    std::chrono::seconds max_ttl_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace mailwarden::auth::spf
