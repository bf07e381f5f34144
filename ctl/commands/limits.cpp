#include "commands/limits.hpp"

#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "admin_access.hpp"
#include "errors.hpp"
#include "policy/checks/account_check.hpp"
#include "ratelimit/limiter.hpp"
#include "ratelimit/override_cache.hpp"
#include "ratelimit/rules_from_config.hpp"
#include "store/admin_json.hpp"
#include "util/ascii.hpp"

namespace mailwarden::ctl {

namespace {

using nlohmann::json;

util::SystemTime now() {
    return std::chrono::time_point_cast<util::SystemTime::duration>(
        std::chrono::system_clock::now());
}

struct LimitsOptions {
    std::string key;
    std::string login;
    std::string sender;
    std::string ip;
    std::string recipient;
    std::string direction;
    bool dry_run = false;
    bool json = false;
};

// The message the admin asks about: KEY is an IP address, else a login (and, with an '@',
// also the envelope sender); the flags say exactly.
ratelimit::MessageFacts facts_of(const LimitsOptions& o) {
    ratelimit::MessageFacts f;
    f.login = o.login;
    f.sender = o.sender;
    if (!o.ip.empty()) {
        auto ip = util::IpAddress::parse(o.ip);
        if (!ip) {
            throw CLI::ValidationError("--ip", ip.error().message);
        }
        f.client_ip = *ip;
    }
    if (!o.key.empty()) {
        if (auto ip = util::IpAddress::parse(o.key)) {
            f.client_ip = *ip;
        } else {
            f.login = f.login.empty() ? o.key : f.login;
            if (o.key.find('@') != std::string::npos && f.sender.empty()) {
                f.sender = o.key;
            }
        }
    }
    if (f.login.empty() && f.sender.empty() && !f.client_ip) {
        throw CLI::ValidationError("KEY", "give a login, sender or IP address");
    }
    if (!o.recipient.empty()) {
        f.recipients.push_back(o.recipient);
    }
    const bool outbound = o.direction.empty() ? !f.login.empty() : o.direction == "outbound";
    f.direction = outbound ? ratelimit::Direction::Outbound : ratelimit::Direction::Inbound;
    return f;
}

std::string rate_text(const ratelimit::Window& w) {
    return fmt::format("{}/{}", w.limit, ratelimit::period_words(w.period));
}

json limit_json(const ratelimit::AppliedLimit& a) {
    return {{"rule", a.rule},
            {"subject", a.subject},
            {"limit", a.window.limit},
            {"period_ms", a.window.period.count()},
            {"counts", std::string(ratelimit::to_string(a.counts))},
            {"action", std::string(ratelimit::to_string(a.action))},
            {"used", a.usage.used},
            {"allowed", a.usage.allowed},
            {"retry_after_ms", a.usage.retry_after.count()}};
}

void limits(const std::string& config_path, const LimitsOptions& o) {
    const auto facts = facts_of(o);
    auto admin = open_admin(config_path);
    if (!admin) {
        fail(admin.error().describe());
    }
    auto rules = ratelimit::rules_from_config(admin->config.ratelimit);
    if (!rules) {
        fail(rules.error().describe());
    }
    auto cache = std::make_shared<ratelimit::OverrideCache>(
        admin->overrides, admin->config.ratelimit.override_refresh);
    const auto t = now();
    if (auto loaded = cache->refresh(t); !loaded) {
        fail(fmt::format("cannot read overrides from {}: {}", admin->where,
                         loaded.error().describe()));
    }
    const ratelimit::Limiter limiter(*rules, *admin->buckets, cache);
    auto preview = limiter.preview(facts, t);
    if (!preview) {
        fail(
            fmt::format("cannot read usage from {}: {}", admin->where, preview.error().describe()));
    }
    std::optional<store::AccountSnapshot> account;
    if (!facts.login.empty() && admin->config.accounts.enabled) {
        const auto settings = policy::account_check_settings(admin->config.accounts);
        auto a = admin->accounts->get(facts.login,
                                      settings ? settings->tracking : store::AccountTracking{}, t);
        if (a && *a) {
            account = **a;
        }
    }
    const bool held = account && account->state == store::AccountState::Held;
    const bool quarantine = admin->config.accounts.action != "tempfail";
    std::string verdict;
    if (held) {
        verdict = fmt::format("{}: the login is held (since {:%Y-%m-%d %H:%M} UTC by {}: {})",
                              quarantine ? "quarantined" : "tempfailed 451 4.7.1",
                              std::chrono::floor<std::chrono::seconds>(account->hold->since),
                              account->hold->by, account->hold->reason);
    } else if (!preview->allowed && preview->refused) {
        const auto& r = *preview->refused;
        verdict =
            fmt::format("{} by rule {} ({} used of {})", ratelimit::to_string(preview->action),
                        r.rule, r.usage.used, rate_text(r.window));
        if (preview->reply) {
            verdict += fmt::format(": {} {} {}", preview->reply->code, preview->reply->enhanced,
                                   preview->reply->text);
        }
    } else {
        verdict = preview->limits.empty() ? "accepted: no rate-limit rule applies"
                                          : "accepted: every limit has room";
    }
    if (o.json) {
        json out{{"login", facts.login},
                 {"sender", facts.sender},
                 {"client_ip", facts.client_ip ? facts.client_ip->to_string() : ""},
                 {"direction",
                  facts.direction == ratelimit::Direction::Outbound ? "outbound" : "inbound"},
                 {"source", admin->where},
                 {"allowed", preview->allowed && !held},
                 {"next_message", verdict},
                 {"limits", json::array()},
                 {"rules_not_applying", json::array()}};
        for (const auto& a : preview->limits) {
            out["limits"].push_back(limit_json(a));
        }
        for (const auto& rule : limiter.rules()) {
            if (!ratelimit::applies(rule, facts)) {
                out["rules_not_applying"].push_back(rule.name);
            }
        }
        if (account) {
            out["account"] = store::to_json(*account);
        }
        std::cout << out.dump(2) << '\n';
        return;
    }
    if (!o.dry_run) {
        fmt::print("{:<24} {:<28} {:<14} {:>14} {:<10} {}\n", "RULE", "SUBJECT", "LIMIT", "USED",
                   "ACTION", "STATE");
        for (const auto& a : preview->limits) {
            const auto state =
                a.usage.allowed
                    ? std::string("ok")
                    : fmt::format(
                          "full, room again in {}s",
                          std::chrono::ceil<std::chrono::seconds>(a.usage.retry_after).count());
            fmt::print("{:<24} {:<28} {:<14} {:>14} {:<10} {}\n", a.rule, a.subject,
                       rate_text(a.window), fmt::format("{}/{}", a.usage.used, a.window.limit),
                       ratelimit::to_string(a.action), state);
        }
        for (const auto& rule : limiter.rules()) {
            if (!ratelimit::applies(rule, facts)) {
                fmt::print("{:<24} (does not apply: scope {} or exempt)\n", rule.name,
                           ratelimit::to_string(rule.scope));
            }
        }
        if (limiter.rules().empty()) {
            fmt::print("(no rate-limit rules configured)\n");
        }
    }
    fmt::print("next message: {}\n", verdict);
}

struct OverrideOptions {
    std::string login;
    std::string rule;
    std::string limits;
    bool clear = false;
    bool list = false;
};

void override_limit(const std::string& config_path, const OverrideOptions& o) {
    auto admin = open_admin(config_path);
    if (!admin) {
        fail(admin.error().describe());
    }
    if (o.list) {
        auto list = admin->overrides->list();
        if (!list) {
            fail(fmt::format("cannot read overrides from {}: {}", admin->where,
                             list.error().describe()));
        }
        for (const auto& x : *list) {
            fmt::print("{:<32} {:<24} {:<24} {} {:%Y-%m-%d %H:%M} UTC\n", x.login, x.rule, x.limits,
                       x.by, std::chrono::floor<std::chrono::seconds>(x.set_at));
        }
        if (list->empty()) {
            fmt::print("(no overrides)\n");
        }
        return;
    }
    if (o.login.empty() || o.rule.empty() || (o.limits.empty() && !o.clear)) {
        throw CLI::ValidationError("override",
                                   "give LOGIN RULE LIMITS, LOGIN RULE --clear or --list");
    }
    auto rules = ratelimit::rules_from_config(admin->config.ratelimit);
    if (!rules) {
        fail(rules.error().describe());
    }
    auto rule = std::find_if(rules->begin(), rules->end(),
                             [&](const ratelimit::Rule& r) { return r.name == o.rule; });
    if (rule == rules->end()) {
        fail(fmt::format("no rate-limit rule named {} in {}", o.rule, config_path));
    }
    const auto login = util::to_lower(o.login);
    if (o.clear) {
        auto removed = admin->overrides->remove(o.rule, login);
        if (!removed) {
            fail(fmt::format("cannot remove the override in {}: {}", admin->where,
                             removed.error().describe()));
        }
        fmt::print("{}\n", *removed ? "override removed" : "there was no such override");
        return;
    }
    auto windows = ratelimit::parse_rates(o.limits);
    if (!windows) {
        fail(fmt::format("LIMITS {}", windows.error().message));
    }
    // The override must make a valid rule: the same checks as the config's overrides.
    auto check = *rule;
    check.overrides[login] = *windows;
    if (auto valid = ratelimit::validate_rules(std::span<const ratelimit::Rule>(&check, 1));
        !valid) {
        fail(valid.error().message);
    }
    store::LimitOverride x{o.rule, login, o.limits, admin_name(), now()};
    if (auto set = admin->overrides->set(x); !set) {
        fail(
            fmt::format("cannot set the override in {}: {}", admin->where, set.error().describe()));
    }
    std::string text;
    for (const auto& w : *windows) {
        text += (text.empty() ? "" : ", ") + rate_text(w);
    }
    fmt::print(
        "{} now has {} for rule {} (in force within {} s on every MTA)\n", login, text, o.rule,
        std::chrono::ceil<std::chrono::seconds>(admin->config.ratelimit.override_refresh).count());
}

}  // namespace

void add_limits_commands(CLI::App& app, const std::string& config_path) {
    auto o = std::make_shared<LimitsOptions>();
    auto* cmd = app.add_subcommand(
        "limits", "the rate-limit rules, the usage of a key, and what its next message would get");
    cmd->add_option("KEY", o->key, "a SASL login, an envelope sender or a client IP address");
    cmd->add_option("--login", o->login, "the SASL login");
    cmd->add_option("--sender", o->sender, "the envelope sender");
    cmd->add_option("--ip", o->ip, "the client IP address");
    cmd->add_option("--to", o->recipient, "a recipient (for recipient-keyed rules)");
    cmd->add_option("--direction", o->direction,
                    "inbound or outbound (default: outbound with a "
                    "login)")
        ->check(CLI::IsMember({"inbound", "outbound"}));
    cmd->add_flag("--dry-run", o->dry_run, "only say what the next message would get, and why");
    cmd->add_flag("--json", o->json, "print JSON");
    cmd->callback([o, &config_path] { limits(config_path, *o); });

    auto ov = std::make_shared<OverrideOptions>();
    auto* over = app.add_subcommand(
        "override", "give a login its own limits for one rule (kept in the store, fleet-wide)");
    over->add_option("LOGIN", ov->login, "the SASL login");
    over->add_option("RULE", ov->rule, "the rule's name");
    over->add_option("LIMITS", ov->limits, "the new windows: \"1000/1m,20000/1d\"");
    over->add_flag("--clear", ov->clear, "remove the override (back to the configured limits)");
    over->add_flag("--list", ov->list, "list the overrides in the store");
    over->callback([ov, &config_path] { override_limit(config_path, *ov); });
}

}  // namespace mailwarden::ctl
