// rule.cpp - parsing of the rate-limit config words and rate strings, and rule checks.
#include "ratelimit/rule.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "ratelimit/gcra.hpp"
#include "util/ascii.hpp"

namespace mailwarden::ratelimit {

using util::ErrorCode;

namespace {

constexpr std::size_t kMaxRuleName = 64;

constexpr std::array<std::pair<std::string_view, KeyPart>, 6> kKeyParts = {{
    {"login", KeyPart::Login},
    {"sender", KeyPart::Sender},
    {"sender_domain", KeyPart::SenderDomain},
    {"client_ip", KeyPart::ClientIp},
    {"client_prefix", KeyPart::ClientPrefix},
    {"recipient", KeyPart::Recipient},
}};

struct Unit {
    std::string_view name;
    std::int64_t ms;
};
constexpr std::array<Unit, 15> kUnits = {{
    {"s", 1'000},
    {"sec", 1'000},
    {"second", 1'000},
    {"m", 60'000},
    {"min", 60'000},
    {"minute", 60'000},
    {"h", 3'600'000},
    {"hour", 3'600'000},
    {"d", 86'400'000},
    {"day", 86'400'000},
    {"w", 604'800'000},
    {"week", 604'800'000},
    {"seconds", 1'000},
    {"minutes", 60'000},
    {"hours", 3'600'000},
}};

util::Result<std::int64_t> parse_count(std::string_view text, std::string_view what) {
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("{} \"{}\" is not a whole number", what, text));
    }
    return value;
}

bool valid_rule_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxRuleName) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

util::Result<void> check_windows(const Rule& rule, std::span<const Window> windows,
                                 std::string_view what) {
    if (windows.empty()) {
        return util::fail(ErrorCode::Config,
                          fmt::format("rate-limit rule {}: {} has no window", rule.name, what));
    }
    for (const auto& w : windows) {
        if (w.limit < 1 || w.limit > gcra::kMaxLimit || w.period < gcra::kMinPeriod ||
            w.period > gcra::kMaxPeriod) {
            return util::fail(ErrorCode::Config,
                              fmt::format("rate-limit rule {}: {} window {} out of range (limit "
                                          "1..{}, period 1s..366d)",
                                          rule.name, what, format_rate(w), gcra::kMaxLimit));
        }
    }
    for (std::size_t i = 0; i < windows.size(); ++i) {
        for (std::size_t j = 0; j < windows.size(); ++j) {
            const auto& a = windows[i];
            const auto& b = windows[j];
            if (i < j && a.period == b.period) {
                return util::fail(ErrorCode::Config,
                                  fmt::format("rate-limit rule {}: {} has two windows of {} ({} "
                                              "and {}); keep one",
                                              rule.name, what, format_period(a.period),
                                              format_rate(a), format_rate(b)));
            }
            if (a.period > b.period && a.limit < b.limit) {
                return util::fail(
                    ErrorCode::Config,
                    fmt::format("rate-limit rule {}: {} allows {} but {}: the shorter window can "
                                "never be reached",
                                rule.name, what, format_rate(b), format_rate(a)));
            }
        }
    }
    return {};
}

}  // namespace

util::Result<Window> parse_rate(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("rate \"{}\": expected LIMIT/PERIOD, e.g. 30/1m", text));
    }
    auto limit = parse_count(util::trim(text.substr(0, slash)), "limit");
    if (!limit) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("rate \"{}\": {}", text, limit.error().message));
    }
    const auto period_text = util::trim(text.substr(slash + 1));
    const auto digits_end = std::find_if(period_text.begin(), period_text.end(),
                                         [](char c) { return c < '0' || c > '9'; });
    const auto count_len = static_cast<std::size_t>(digits_end - period_text.begin());
    std::int64_t count = 1;
    if (count_len > 0) {
        auto parsed = parse_count(period_text.substr(0, count_len), "period");
        if (!parsed || *parsed > 1'000'000) {
            return util::fail(ErrorCode::InvalidInput,
                              fmt::format("rate \"{}\": period count too large", text));
        }
        count = *parsed;
    }
    const auto unit_text = util::to_lower(util::trim(period_text.substr(count_len)));
    const auto unit = std::find_if(kUnits.begin(), kUnits.end(),
                                   [&](const Unit& u) { return u.name == unit_text; });
    if (unit == kUnits.end()) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("rate \"{}\": unknown period unit \"{}\" (use s, m, h, d "
                                      "or w)",
                                      text, unit_text));
    }
    const Window w{*limit, std::chrono::milliseconds(count * unit->ms)};
    if (w.limit < 1 || w.limit > gcra::kMaxLimit) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("rate \"{}\": limit must be 1 to {}", text, gcra::kMaxLimit));
    }
    if (w.period < gcra::kMinPeriod || w.period > gcra::kMaxPeriod) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("rate \"{}\": period must be 1s to 366d", text));
    }
    return w;
}

util::Result<std::vector<KeyPart>> parse_key(std::string_view text) {
    std::vector<KeyPart> parts;
    for (auto word : util::split(text, '+')) {
        word = util::trim(word);
        const auto lower = util::to_lower(word);
        const auto it = std::find_if(kKeyParts.begin(), kKeyParts.end(),
                                     [&](const auto& e) { return e.first == lower; });
        if (it == kKeyParts.end()) {
            return util::fail(ErrorCode::InvalidInput,
                              fmt::format("rate-limit key \"{}\": unknown part \"{}\" (use login, "
                                          "sender, sender_domain, client_ip, client_prefix, "
                                          "recipient, joined with +)",
                                          text, word));
        }
        if (std::find(parts.begin(), parts.end(), it->second) != parts.end()) {
            return util::fail(ErrorCode::InvalidInput,
                              fmt::format("rate-limit key \"{}\": \"{}\" twice", text, word));
        }
        parts.push_back(it->second);
    }
    return parts;
}

util::Result<Counts> parse_counts(std::string_view text) {
    if (text == "messages") {
        return Counts::Messages;
    }
    if (text == "recipients") {
        return Counts::Recipients;
    }
    return util::fail(ErrorCode::InvalidInput,
                      fmt::format("counts \"{}\": use messages or recipients", text));
}

util::Result<Scope> parse_scope(std::string_view text) {
    if (text == "inbound") {
        return Scope::Inbound;
    }
    if (text == "outbound") {
        return Scope::Outbound;
    }
    if (text == "both") {
        return Scope::Both;
    }
    return util::fail(ErrorCode::InvalidInput,
                      fmt::format("scope \"{}\": use inbound, outbound or both", text));
}

util::Result<Action> parse_action(std::string_view text) {
    if (text == "tempfail") {
        return Action::Tempfail;
    }
    if (text == "reject") {
        return Action::Reject;
    }
    if (text == "quarantine") {
        return Action::Quarantine;
    }
    return util::fail(ErrorCode::InvalidInput,
                      fmt::format("action \"{}\": use tempfail, reject or quarantine", text));
}

std::string_view to_string(KeyPart part) {
    for (const auto& [name, value] : kKeyParts) {
        if (value == part) {
            return name;
        }
    }
    return "?";
}

std::string_view to_string(Counts counts) {
    return counts == Counts::Messages ? "messages" : "recipients";
}

std::string_view to_string(Scope scope) {
    switch (scope) {
        case Scope::Inbound:
            return "inbound";
        case Scope::Outbound:
            return "outbound";
        case Scope::Both:
            return "both";
    }
    return "?";
}

std::string_view to_string(Action action) {
    switch (action) {
        case Action::Tempfail:
            return "tempfail";
        case Action::Reject:
            return "reject";
        case Action::Quarantine:
            return "quarantine";
    }
    return "?";
}

std::string key_name(std::span<const KeyPart> key) {
    std::string out;
    for (auto part : key) {
        if (!out.empty()) {
            out += '+';
        }
        out += to_string(part);
    }
    return out;
}

std::string format_period(std::chrono::milliseconds period) {
    const std::int64_t ms = period.count();
    constexpr std::array<std::pair<std::int64_t, char>, 5> units = {
        {{604'800'000, 'w'}, {86'400'000, 'd'}, {3'600'000, 'h'}, {60'000, 'm'}, {1'000, 's'}}};
    for (const auto& [size, letter] : units) {
        if (ms > 0 && ms % size == 0) {
            return fmt::format("{}{}", ms / size, letter);
        }
    }
    return fmt::format("{}ms", ms);
}

std::string format_rate(const Window& window) {
    return fmt::format("{}/{}", window.limit, format_period(window.period));
}

util::Result<void> validate_rules(std::span<const Rule> rules) {
    std::set<std::string, std::less<>> names;
    for (const auto& rule : rules) {
        if (!valid_rule_name(rule.name)) {
            return util::fail(ErrorCode::Config,
                              fmt::format("rate-limit rule name \"{}\": use 1 to {} letters, "
                                          "digits, '_' or '-'",
                                          rule.name, kMaxRuleName));
        }
        if (!names.insert(rule.name).second) {
            return util::fail(ErrorCode::Config,
                              fmt::format("rate-limit rule {} is defined twice", rule.name));
        }
        if (rule.key.empty()) {
            return util::fail(ErrorCode::Config,
                              fmt::format("rate-limit rule {}: no key", rule.name));
        }
        for (std::size_t i = 0; i < rule.key.size(); ++i) {
            if (std::find(rule.key.begin() + static_cast<std::ptrdiff_t>(i) + 1, rule.key.end(),
                          rule.key[i]) != rule.key.end()) {
                return util::fail(ErrorCode::Config,
                                  fmt::format("rate-limit rule {}: key part {} twice", rule.name,
                                              to_string(rule.key[i])));
            }
        }
        if (auto ok = check_windows(rule, rule.windows, "windows"); !ok) {
            return ok;
        }
        for (const auto& [login, windows] : rule.overrides) {
            if (login.empty() || login != util::to_lower(login)) {
                return util::fail(ErrorCode::Config,
                                  fmt::format("rate-limit rule {}: override login \"{}\" must be "
                                              "non-empty and lower-case",
                                              rule.name, login));
            }
            if (auto ok = check_windows(rule, windows, "override for " + login); !ok) {
                return ok;
            }
        }
    }
    return {};
}

}  // namespace mailwarden::ratelimit
