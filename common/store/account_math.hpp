// account_math.hpp - the arithmetic of account tracking, as pure functions shared by
// MemoryAccountStore; store/scripts/account_update.lua implements the same formulas in
// Redis, and the store contract test runs one scenario through both.
//
// Time is integer milliseconds since the Unix epoch. A window is [i*W, (i+1)*W); a day is
// a UTC day. When a window ends (is rolled because a later one began), it is folded into
// the baseline if it had messages: every sum and the weight first decay by
// 2^(-(end - last_fold) / half_life), then the window adds its figures and 1 to the
// weight. Days fold the same way (a day is active when it saw a client IP).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/account_store.hpp"

namespace mailwarden::store::account_math {

inline constexpr std::int64_t kDayMs = 86'400'000;

/// floor(now / length) for now >= 0, length > 0.
constexpr std::int64_t index_of(std::int64_t now_ms, std::int64_t length_ms) {
    return now_ms / length_ms;
}

/// The weight left after `elapsed_ms` with the given half-life (1 for elapsed <= 0).
inline double decay(double elapsed_ms, double half_life_ms) {
    if (elapsed_ms <= 0) {
        return 1.0;
    }
    return std::exp2(-elapsed_ms / half_life_ms);
}

/// Folds a finished window into the baseline when it had messages; `fold_ms` is the end
/// of the last folded window (0 before the first) and becomes this window's end.
inline void fold_window(Baseline& b, std::int64_t& fold_ms, const WindowFigures& w,
                        std::int64_t window_ms, std::int64_t half_life_ms) {
    if (w.messages == 0) {
        return;
    }
    const std::int64_t end = (w.index + 1) * window_ms;
    const double d =
        fold_ms > 0 ? decay(static_cast<double>(end - fold_ms), static_cast<double>(half_life_ms))
                    : 1.0;
    b.messages = b.messages * d + static_cast<double>(w.messages);
    b.recipients = b.recipients * d + static_cast<double>(w.recipients);
    b.failed_recipients = b.failed_recipients * d + static_cast<double>(w.failed_recipients);
    b.bounces = b.bounces * d + static_cast<double>(w.bounces);
    b.domains = b.domains * d + static_cast<double>(w.domains);
    b.new_domains = b.new_domains * d + static_cast<double>(w.new_domains);
    b.weight = b.weight * d + 1.0;
    fold_ms = end;
}

/// Folds a finished day into the baseline when it saw a client IP.
inline void fold_day(Baseline& b, std::int64_t& fold_ms, const DayFigures& day,
                     std::int64_t half_life_ms) {
    if (day.client_ips == 0) {
        return;
    }
    const std::int64_t end = (day.index + 1) * kDayMs;
    const double d =
        fold_ms > 0 ? decay(static_cast<double>(end - fold_ms), static_cast<double>(half_life_ms))
                    : 1.0;
    b.client_ips = b.client_ips * d + static_cast<double>(day.client_ips);
    b.client_nets = b.client_nets * d + static_cast<double>(day.client_nets);
    b.day_weight = b.day_weight * d + 1.0;
    fold_ms = end;
}

/// How many remembered domains survive a trim: three quarters of the cap (at least 1),
/// so each window has room for new ones.
constexpr std::size_t keep_after_trim(std::size_t cap) {
    return std::max<std::size_t>(1, cap - cap / 4);
}

/// Drops the least recently used entries (lowest value; ties by tag) of `seen` until at
/// most keep_after_trim(cap) are left; nothing while it holds no more than that.
inline void trim_oldest(std::unordered_map<std::string, std::int64_t>& seen, std::size_t cap) {
    const std::size_t keep = keep_after_trim(cap);
    if (seen.size() <= keep) {
        return;
    }
    std::vector<std::pair<std::int64_t, std::string>> order;
    order.reserve(seen.size());
    for (const auto& [tag, last] : seen) {
        order.emplace_back(last, tag);
    }
    std::sort(order.begin(), order.end());
    for (std::size_t i = 0; i + keep < order.size(); ++i) {
        seen.erase(order[i].second);
    }
}

}  // namespace mailwarden::store::account_math
