// gcra.hpp - the Generic Cell Rate Algorithm, as pure integer functions shared by every
// bucket store (store/memory_buckets.cpp computes with them; store/scripts/gcra_check.lua
// implements the same formulas in Redis, and a test checks that both agree).
//
// A bucket allows `limit` units per `period`. Its whole state is one number, the
// theoretical arrival time (TAT): the instant at which the bucket would be empty again.
// Each unit advances the TAT by the emission interval T = ceil(period / limit); a request
// of `cost` units is allowed when max(TAT, now) + cost*T - now <= limit*T (the window).
// So `limit` units pass at once from an empty bucket, and one unit comes back every T.
//
// Times are integer microseconds since the Unix epoch: exact, and below 2^53 (so exact as
// Lua numbers too) until the year 2255. Header-only because both mw_store and
// mw_ratelimit use it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "util/clock.hpp"

namespace mailwarden::ratelimit::gcra {

/// Microseconds (a duration, or an instant since the Unix epoch).
using Micros = std::int64_t;

/// Largest limit of one window; with kMinPeriod it keeps T at 1 us or more.
inline constexpr std::int64_t kMaxLimit = 1'000'000;
/// Shortest window.
inline constexpr std::chrono::milliseconds kMinPeriod{1'000};
/// Longest window (a leap year).
inline constexpr std::chrono::milliseconds kMaxPeriod{366LL * 24 * 3600 * 1000};

/// The constants of one bucket.
struct Params {
    Micros interval = 1;     ///< emission interval T: time for one unit to come back
    std::int64_t limit = 1;  ///< units allowed at once from an empty bucket

    /// limit * T: how far ahead of now the TAT may run.
    constexpr Micros window() const { return interval * limit; }
};

/// ceil(a / b) for a >= 0, b > 0.
constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

/// Params for `limit` per `period`; both must be within the k* bounds (callers validate).
constexpr Params params(std::int64_t limit, std::chrono::milliseconds period) {
    return Params{ceil_div(period.count() * 1000, limit), limit};
}

/// An instant as microseconds since the Unix epoch.
constexpr Micros to_micros(util::SystemTime t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

/// Units in use at `now` for a bucket whose TAT is `tat` (0 when the bucket is absent):
/// ceil((TAT - now) / T), within 0..limit.
constexpr std::int64_t used(Micros tat, Micros now, Params p) {
    if (tat <= now) {
        return 0;
    }
    return std::min(ceil_div(tat - now, p.interval), p.limit);
}

/// The outcome of asking one bucket for `cost` units.
struct Decision {
    bool allowed = false;
    Micros tat = 0;              ///< the new TAT when allowed; the unchanged TAT when refused
    std::int64_t used = 0;       ///< units in use: after charging when allowed, before when not
    Micros retry_after = 0;      ///< 0 when allowed; else how long until `cost` units would pass
    bool over_capacity = false;  ///< cost > limit: this request can never pass
};

/// Asks a bucket with TAT `tat` (0 when absent) for `cost` (>= 1) units at `now`.
constexpr Decision decide(Micros tat, Micros now, Params p, std::int64_t cost) {
    const Micros base = std::max(tat, now);
    const Micros new_tat = base + cost * p.interval;
    Decision d;
    d.over_capacity = cost > p.limit;
    if (new_tat - now <= p.window()) {
        d.allowed = true;
        d.tat = new_tat;
        d.used = used(new_tat, now, p);
        return d;
    }
    d.tat = tat;
    d.used = used(tat, now, p);
    d.retry_after = new_tat - p.window() - now;
    return d;
}

/// Milliseconds a key must live: until its TAT, rounded up, at least 1.
constexpr std::int64_t ttl_ms(Micros tat, Micros now) {
    return std::max<std::int64_t>(1, ceil_div(std::max<Micros>(tat - now, 0), 1000));
}

}  // namespace mailwarden::ratelimit::gcra
