// override_store.cpp - validation and the in-memory override store.
#include "store/override_store.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "store/account_store.hpp"
#include "util/ascii.hpp"

namespace mailwarden::store {

using util::ErrorCode;

namespace {

constexpr std::size_t kMaxRuleBytes = 64;

bool rule_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

}  // namespace

util::Result<void> validate_override(const LimitOverride& o) {
    if (o.rule.empty() || o.rule.size() > kMaxRuleBytes ||
        !std::all_of(o.rule.begin(), o.rule.end(), rule_char)) {
        return util::fail(
            ErrorCode::InvalidInput,
            fmt::format("override rule name must be 1..{} of [A-Za-z0-9_-]", kMaxRuleBytes));
    }
    if (o.login.empty() || o.login.size() > kMaxLoginBytes) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("override login must be 1..{} bytes", kMaxLoginBytes));
    }
    if (o.limits.empty() || o.limits.size() > kMaxOverrideLimitsBytes ||
        !std::all_of(o.limits.begin(), o.limits.end(),
                     [](char c) { return c >= 0x20 && c <= 0x7e; })) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("override limits must be 1..{} printable bytes like "
                                      "\"1000/1m,20000/1d\"",
                                      kMaxOverrideLimitsBytes));
    }
    return {};
}

std::string override_field(std::string_view rule, std::string_view login) {
    return fmt::format("{}:{}", rule, util::to_lower(login));
}

util::Result<std::vector<LimitOverride>> MemoryOverrideStore::list() {
    std::lock_guard lock(mutex_);
    std::vector<LimitOverride> out;
    out.reserve(by_field_.size());
    for (const auto& [field, o] : by_field_) {
        out.push_back(o);
    }
    return out;
}

util::Result<void> MemoryOverrideStore::set(const LimitOverride& o) {
    if (auto v = validate_override(o); !v) {
        return v;
    }
    LimitOverride stored = o;
    stored.login = util::to_lower(o.login);
    const auto field = override_field(stored.rule, stored.login);
    std::lock_guard lock(mutex_);
    if (!by_field_.contains(field) && by_field_.size() >= kMaxOverrides) {
        return util::fail(
            ErrorCode::InvalidInput,
            fmt::format("{} overrides exist already; remove some first", kMaxOverrides));
    }
    by_field_[field] = std::move(stored);
    return {};
}

util::Result<bool> MemoryOverrideStore::remove(std::string_view rule, std::string_view login) {
    std::lock_guard lock(mutex_);
    return by_field_.erase(override_field(rule, login)) > 0;
}

}  // namespace mailwarden::store
