// lookup_budget.hpp - the processing limits of RFC 7208 §4.6.4 for one evaluation.
//
// Counts DNS-querying terms and void lookups against the RFC's named limits and a wall
// clock deadline from an injected Clock. Not thread-safe: one budget per evaluation.
#pragma once

#include <chrono>

#include "util/clock.hpp"

namespace mailwarden::auth::spf {

/// RFC 7208 §4.6.4: at most 10 mechanisms/modifiers that query DNS (include, a, mx, ptr,
/// exists, redirect) per check_host(), nested evaluations included.
inline constexpr int kMaxDnsTerms = 10;
/// RFC 7208 §4.6.4: at most 2 lookups that return no records (NXDOMAIN or NODATA).
inline constexpr int kMaxVoidLookups = 2;
/// RFC 7208 §4.6.4: an "mx" mechanism may look up the addresses of at most 10 MX names.
inline constexpr int kMaxMxNames = 10;
/// RFC 7208 §4.6.4: a "ptr" mechanism or %{p} considers at most 10 PTR names.
inline constexpr int kMaxPtrNames = 10;
/// RFC 7208 §4.6.4: the whole evaluation should be allowed at least 20 seconds.
inline constexpr std::chrono::milliseconds kDefaultTimeLimit{20'000};

/// The budget of one check_host() evaluation, shared by its includes and redirects.
class LookupBudget {
  public:
    /// Starts the clock now; `time_limit` bounds the whole evaluation.
    LookupBudget(const util::Clock& clock, std::chrono::milliseconds time_limit)
        : clock_(&clock), deadline_(clock.now() + time_limit) {}

    /// Counts one DNS-querying term; false once the count goes past kMaxDnsTerms.
    bool charge_term() noexcept { return ++dns_lookups_ <= kMaxDnsTerms; }
    /// Counts one void lookup; false once the count goes past kMaxVoidLookups.
    bool charge_void() noexcept { return ++void_lookups_ <= kMaxVoidLookups; }
    /// True once the deadline has passed.
    bool expired() const { return clock_->now() >= deadline_; }

    /// DNS-querying terms counted so far.
    int dns_lookups() const noexcept { return dns_lookups_; }
    /// Void lookups counted so far.
    int void_lookups() const noexcept { return void_lookups_; }

  private:
    const util::Clock* clock_;
    util::SystemTime deadline_;
    int dns_lookups_ = 0;
    int void_lookups_ = 0;
};

}  // namespace mailwarden::auth::spf
