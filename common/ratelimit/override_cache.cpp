// override_cache.cpp - parse the store's overrides once per interval, look them up per message.
#include "ratelimit/override_cache.hpp"

#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/ascii.hpp"

namespace mailwarden::ratelimit {

util::Result<std::vector<Window>> parse_rates(std::string_view text) {
    std::vector<Window> out;
    std::set<std::int64_t> periods;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto part = util::trim(text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        auto w = parse_rate(part);
        if (!w) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("'{}': {}", part, w.error().message));
        }
        if (!periods.insert(w->period.count()).second) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("'{}': the period is given twice", part));
        }
        out.push_back(*w);
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return out;
}

OverrideCache::OverrideCache(std::shared_ptr<store::OverrideStore> store,
                             std::chrono::milliseconds refresh)
    : store_(std::move(store)), refresh_(refresh) {}

void OverrideCache::refresh_if_due(util::SystemTime now) {
    {
        std::lock_guard lock(mutex_);
        if (loaded_at_ && now >= *loaded_at_ && now - *loaded_at_ < refresh_) {
            return;
        }
        loaded_at_ = now;  // one caller refreshes; the others use the old snapshot
    }
    (void)refresh(now);
}

util::Result<void> OverrideCache::refresh(util::SystemTime now) {
    auto listed = store_->list();
    std::lock_guard lock(mutex_);
    loaded_at_ = now;
    if (!listed) {
        if (!failing_) {
            spdlog::warn(
                "rate-limit overrides not reloaded from the {} store ({}); the last "
                "ones stay in force",
                store_->kind(), listed.error().describe());
        }
        failing_ = true;
        return std::unexpected(listed.error());
    }
    if (failing_) {
        spdlog::info("rate-limit overrides reloaded from the {} store again", store_->kind());
    }
    failing_ = false;
    auto next = std::make_shared<Snapshot>();
    for (const auto& o : *listed) {
        auto windows = parse_rates(o.limits);
        if (!windows) {
            spdlog::warn("rate-limit override of rule {} for {} ignored: {}", o.rule, o.login,
                         windows.error().message);
            continue;
        }
        (*next)[store::override_field(o.rule, o.login)] = std::move(*windows);
    }
    snapshot_ = std::move(next);
    return {};
}

std::optional<std::vector<Window>> OverrideCache::find(std::string_view rule,
                                                       std::string_view login) const {
    std::shared_ptr<const Snapshot> snapshot;
    {
        std::lock_guard lock(mutex_);
        snapshot = snapshot_;
    }
    if (snapshot->empty()) {
        return std::nullopt;
    }
    const auto it = snapshot->find(store::override_field(rule, login));
    if (it == snapshot->end()) {
        return std::nullopt;
    }
    return it->second;
}

}  // namespace mailwarden::ratelimit
