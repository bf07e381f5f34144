// account_store.cpp - validation and the helpers every AccountStore shares.
#include "store/account_store.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "store/keys.hpp"
#include "util/ascii.hpp"

namespace mailwarden::store {

using util::ErrorCode;

namespace {

constexpr std::size_t kTagHexDigits = 10;
constexpr std::size_t kMaxTagBytes = 32;
constexpr std::size_t kMaxCap = 100'000;
constexpr std::int64_t kDayMs = 86'400'000;

bool valid_tag(std::string_view tag) {
    return !tag.empty() && tag.size() <= kMaxTagBytes &&
           std::all_of(tag.begin(), tag.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

util::Result<void> validate_tracking(const AccountTracking& t) {
    const auto window = t.window.count();
    if (window < 60'000 || window > kDayMs || kDayMs % window != 0) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("account window of {} ms: must be 1 minute to 1 day and "
                                      "divide a day",
                                      window));
    }
    if (t.half_life < std::chrono::hours(1) || t.half_life > std::chrono::hours(365 * 24)) {
        return util::fail(ErrorCode::InvalidInput, "account baseline half-life must be 1h..365d");
    }
    for (const auto ttl : {t.idle_ttl, t.held_ttl, t.sender_ttl}) {
        if (ttl.count() < kDayMs || ttl < t.window) {
            return util::fail(ErrorCode::InvalidInput,
                              "account TTLs must be at least a day and at least the window");
        }
    }
    for (const auto cap : {t.known_domains, t.known_from_domains, t.tracked_client_ips}) {
        if (cap < 1 || cap > kMaxCap) {
            return util::fail(ErrorCode::InvalidInput,
                              fmt::format("account caps must be 1..{}", kMaxCap));
        }
    }
    return {};
}

util::Result<void> validate_activity(const AccountActivity& a) {
    if (a.recipient_domain_tags.size() > kMaxDomainsPerUpdate ||
        a.from_domain_tags.size() > kMaxFromDomainsPerUpdate) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("account update with {} recipient and {} From: domains; at "
                                      "most {} and {}",
                                      a.recipient_domain_tags.size(), a.from_domain_tags.size(),
                                      kMaxDomainsPerUpdate, kMaxFromDomainsPerUpdate));
    }
    const auto bad = [](const std::vector<std::string>& tags) {
        return std::any_of(tags.begin(), tags.end(),
                           [](const std::string& t) { return !valid_tag(t); });
    };
    if (bad(a.recipient_domain_tags) || bad(a.from_domain_tags) ||
        (!a.client_ip_tag.empty() && !valid_tag(a.client_ip_tag)) ||
        (!a.client_net_tag.empty() && !valid_tag(a.client_net_tag))) {
        return util::fail(ErrorCode::InvalidInput,
                          "account update with a tag that is not 1..32 hex digits (use "
                          "account_tag)");
    }
    if (a.sender.size() > kMaxLoginBytes) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("account update with a sender of {} bytes; at most {}",
                                      a.sender.size(), kMaxLoginBytes));
    }
    return {};
}

std::string account_tag(std::string_view fact) {
    return sha256_hex(fact).substr(0, kTagHexDigits);
}

util::Result<std::string> normalize_login(std::string_view login) {
    if (login.empty()) {
        return util::fail(ErrorCode::InvalidInput, "empty login");
    }
    if (login.size() > kMaxLoginBytes) {
        return util::fail(
            ErrorCode::InvalidInput,
            fmt::format("login of {} bytes; at most {} are tracked", login.size(), kMaxLoginBytes));
    }
    return util::to_lower(login);
}

util::Result<std::string> checked_login(std::string_view login, const AccountTracking& tracking) {
    if (auto v = validate_tracking(tracking); !v) {
        return std::unexpected(v.error());
    }
    return normalize_login(login);
}

std::string_view to_string(AccountState state) {
    return state == AccountState::Held ? "held" : "ok";
}

}  // namespace mailwarden::store
