// rules_from_config.cpp - ratelimit::Rule values from the `ratelimit:` section.
#include "ratelimit/rules_from_config.hpp"

#include <fmt/format.h>

namespace mailwarden::ratelimit {

namespace {

util::Result<Rule> rate_rule(const config::RateRuleConfig& c) {
    auto fail = [&](const util::Error& e) {
        util::Error out{util::ErrorCode::Config,
                        fmt::format("ratelimit rule '{}': {}", c.name, e.message), c.where};
        return std::unexpected(out);
    };
    Rule rule;
    rule.name = c.name;
    auto key = parse_key(c.key);
    if (!key)
        return fail(key.error());
    rule.key = *key;
    auto counts = parse_counts(c.counts);
    if (!counts)
        return fail(counts.error());
    rule.counts = *counts;
    auto scope = parse_scope(c.scope);
    if (!scope)
        return fail(scope.error());
    rule.scope = *scope;
    auto action = parse_action(c.action);
    if (!action)
        return fail(action.error());
    rule.action = *action;
    for (const auto& text : c.limits) {
        auto w = parse_rate(text);
        if (!w)
            return fail(w.error());
        rule.windows.push_back(*w);
    }
    rule.exempt_logins = c.exempt_logins;
    rule.exempt_networks = c.exempt_networks;
    for (const auto& [login, limits] : c.overrides) {
        std::vector<Window> windows;
        for (const auto& text : limits) {
            auto w = parse_rate(text);
            if (!w)
                return fail(w.error());
            windows.push_back(*w);
        }
        rule.overrides[login] = std::move(windows);
    }
    return rule;
}

}  // namespace

util::Result<std::vector<Rule>> rules_from_config(const config::RateLimitConfig& config) {
    std::vector<Rule> rules;
    for (const auto& c : config.rules) {
        auto rule = rate_rule(c);
        if (!rule) {
            return std::unexpected(rule.error());
        }
        rules.push_back(std::move(*rule));
    }
    if (auto valid = validate_rules(rules); !valid) {
        return util::fail(util::ErrorCode::Config, "ratelimit: " + valid.error().message);
    }
    return rules;
}

}  // namespace mailwarden::ratelimit
