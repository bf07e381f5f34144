// rule.hpp - a rate-limit rule as configured: what it keys on, what it counts, its
// windows, where it applies, who is exempt, and what happens when it is exceeded; plus
// the parsers for the config's words and rate strings ("30/1m", "500 / 1d").
//
// Rules are immutable values; config/ builds them and validate_rules() rejects names that
// clash, windows that contradict each other and limits out of range, naming the rule.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::ratelimit {

/// One fact a bucket is keyed on; a rule's key is one or more of them ("login+client_ip").
enum class KeyPart {
    Login,         ///< SASL login
    Sender,        ///< envelope sender address (MAIL FROM)
    SenderDomain,  ///< its domain
    ClientIp,      ///< SMTP client address
    ClientPrefix,  ///< its /24 (IPv4) or /64 (IPv6) network
    Recipient,     ///< envelope recipient (one bucket per recipient)
};

/// What one unit is.
enum class Counts {
    Messages,    ///< one per message, charged at end of message
    Recipients,  ///< one per accepted recipient, charged at RCPT
};

/// Which mail a rule applies to.
enum class Scope { Inbound, Outbound, Both };

/// Direction of one message (decided by the caller: authenticated or relayed = outbound).
enum class Direction { Inbound, Outbound };

/// What happens to a message over a limit.
enum class Action {
    Tempfail,    ///< 451 4.7.1 with the limit and the time to try again
    Reject,      ///< 550 5.7.1
    Quarantine,  ///< accepted into the MTA's hold queue
};

/// `limit` units per `period`.
struct Window {
    std::int64_t limit = 0;
    std::chrono::milliseconds period{0};

    friend bool operator==(const Window&, const Window&) = default;
};

/// A configured rule.
struct Rule {
    std::string name;          ///< [A-Za-z0-9_-], 1..64 bytes; part of the Redis key
    std::vector<KeyPart> key;  ///< ordered, no repeats
    Counts counts = Counts::Messages;
    std::vector<Window> windows;  ///< all enforced; distinct periods
    Scope scope = Scope::Outbound;
    std::vector<std::string> exempt_logins;   ///< compared case-insensitively
    std::vector<util::Cidr> exempt_networks;  ///< client address inside: exempt
    Action action = Action::Tempfail;
    /// Per-login windows replacing `windows` (a newsletter account may send more); logins
    /// lower-case.
    std::map<std::string, std::vector<Window>, std::less<>> overrides;
};

/// Parses "30/1m", "500 / 1d", "10/90s", "100/m": a limit of 1..gcra::kMaxLimit, '/', and
/// a period of an optional count and a unit s, m, h, d or w (also "sec", "min", "hour",
/// "day", "week"), within gcra::kMinPeriod..kMaxPeriod. InvalidInput naming the problem.
util::Result<Window> parse_rate(std::string_view text);
/// "login", "client_ip", "login+client_ip", ... InvalidInput for unknown or repeated parts.
util::Result<std::vector<KeyPart>> parse_key(std::string_view text);
/// "messages" | "recipients".
util::Result<Counts> parse_counts(std::string_view text);
/// "inbound" | "outbound" | "both".
util::Result<Scope> parse_scope(std::string_view text);
/// "tempfail" | "reject" | "quarantine".
util::Result<Action> parse_action(std::string_view text);

/// The config word of each value ("sender_domain", "recipients", "both", "tempfail").
std::string_view to_string(KeyPart part);
std::string_view to_string(Counts counts);
std::string_view to_string(Scope scope);
std::string_view to_string(Action action);
/// "login+client_ip".
std::string key_name(std::span<const KeyPart> key);

/// The shortest exact form of a period: "90s", "1m", "5m", "1h", "1d", "2w", or "1500ms".
std::string format_period(std::chrono::milliseconds period);
/// "30/1m".
std::string format_rate(const Window& window);

/// Config errors in a set of rules: invalid or duplicate names, empty or repeated key
/// parts, no windows, limits or periods out of range, two windows of one rule with the
/// same period (contradictory), or a longer window with a smaller limit than a shorter
/// one (the shorter could never be reached: almost surely a typo). Config code, naming
/// the rule.
util::Result<void> validate_rules(std::span<const Rule> rules);

}  // namespace mailwarden::ratelimit
