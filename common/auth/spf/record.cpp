// record.cpp - SPF record parsing against the RFC 7208 §12 grammar.
#include "auth/spf/record.hpp"

#include <fmt/format.h>

#include "auth/spf/macro.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::spf {

namespace {

constexpr std::string_view kVersion = "v=spf1";

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}

std::unexpected<SyntaxError> bad(std::string_view term, std::string reason) {
    return std::unexpected(SyntaxError{std::string(term), std::move(reason)});
}

// RFC 7208 §12: toplabel = ( *alphanum ALPHA *alphanum ) /
//                          ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) {
        return false;
    }
    bool alpha = false;
    bool dash = false;
    for (const char c : label) {
        if (c == '-') {
            dash = true;
        } else if (is_alpha(c)) {
            alpha = true;
        } else if (!is_digit(c)) {
            return false;
        }
    }
    return alpha || dash;
}

// Strict decimal without leading zeros (RFC 7208 §12 ip4-cidr-length / ip6-cidr-length).
std::optional<int> parse_cidr_length(std::string_view digits, int max) {
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) {
        return std::nullopt;
    }
    int value = 0;
    for (const char c : digits) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    if (value > max) {
        return std::nullopt;
    }
    return value;
}

bool all_digits(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (!is_digit(c)) {
            return false;
        }
    }
    return true;
}

// RFC 7208 §5.3/§5.4: dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ],
// taken from the end of `arg`, which is shortened to what precedes it.
std::optional<std::string> split_dual_cidr(std::string_view& arg, Mechanism& m) {
    if (const auto p = arg.rfind("//");
        p != std::string_view::npos && all_digits(arg.substr(p + 2))) {
        const auto len = parse_cidr_length(arg.substr(p + 2), 128);
        if (!len) {
            return "bad ip6-cidr-length";
        }
        m.cidr6 = *len;
        arg = arg.substr(0, p);
    }
    if (const auto p = arg.rfind('/');
        p != std::string_view::npos && all_digits(arg.substr(p + 1))) {
        const auto len = parse_cidr_length(arg.substr(p + 1), 32);
        if (!len) {
            return "bad ip4-cidr-length";
        }
        m.cidr4 = *len;
        arg = arg.substr(0, p);
    }
    return std::nullopt;
}

std::optional<std::string> parse_ip_network(std::string_view arg, Mechanism& m) {
    const bool v6 = m.kind == MechanismKind::Ip6;
    const auto slash = arg.find('/');
    const std::string_view address_text = arg.substr(0, slash);
    if (address_text.empty() || address_text.find('[') != std::string_view::npos ||
        (!v6 && address_text.find(':') != std::string_view::npos)) {
        return v6 ? "bad ip6-network" : "bad ip4-network";
    }
    auto address = util::IpAddress::parse(address_text);
    if (!address || address->is_v4() == v6) {
        return v6 ? "bad ip6-network" : "bad ip4-network";
    }
    int length = address->bit_length();
    if (slash != std::string_view::npos) {
        const auto parsed = parse_cidr_length(arg.substr(slash + 1), address->bit_length());
        if (!parsed) {
            return v6 ? "bad ip6-cidr-length" : "bad ip4-cidr-length";
        }
        length = *parsed;
    }
    m.network = util::Cidr::of(*address, length);
    return std::nullopt;
}

std::optional<MechanismKind> mechanism_kind(std::string_view name) {
    static constexpr std::pair<std::string_view, MechanismKind> kNames[] = {
        {"all", MechanismKind::All}, {"include", MechanismKind::Include},
        {"a", MechanismKind::A},     {"mx", MechanismKind::Mx},
        {"ptr", MechanismKind::Ptr}, {"ip4", MechanismKind::Ip4},
        {"ip6", MechanismKind::Ip6}, {"exists", MechanismKind::Exists},
    };
    for (const auto& [text, kind] : kNames) {
        if (util::iequals(name, text)) {
            return kind;
        }
    }
    return std::nullopt;
}

std::expected<Mechanism, SyntaxError> parse_directive(std::string_view term) {
    Mechanism m;
    m.text = std::string(term);
    std::string_view rest = term;
    switch (rest.front()) {  // RFC 7208 §4.6.2 qualifier
        case '+':
            m.qualifier = Qualifier::Pass;
            rest.remove_prefix(1);
            break;
        case '-':
            m.qualifier = Qualifier::Fail;
            rest.remove_prefix(1);
            break;
        case '~':
            m.qualifier = Qualifier::SoftFail;
            rest.remove_prefix(1);
            break;
        case '?':
            m.qualifier = Qualifier::Neutral;
            rest.remove_prefix(1);
            break;
        default:
            break;
    }
    const auto name_end = rest.find_first_of(":/");
    const auto kind = mechanism_kind(rest.substr(0, name_end));
    if (!kind) {
        return bad(term, "unknown mechanism");  // RFC 7208 §5: unknown mechanisms are errors
    }
    m.kind = *kind;
    std::string_view arg =
        name_end == std::string_view::npos ? std::string_view{} : rest.substr(name_end);
    auto take_domain = [&](bool required) -> std::optional<std::string> {
        if (arg.empty()) {
            return required ? std::optional<std::string>("domain-spec required") : std::nullopt;
        }
        if (arg.front() != ':') {
            return "unexpected argument";
        }
        const auto spec = arg.substr(1);
        if (!is_valid_domain_spec(spec)) {
            return "invalid domain-spec";  // RFC 7208 §7.1 domain-spec / domain-end
        }
        m.domain_spec = std::string(spec);
        return std::nullopt;
    };
    std::optional<std::string> error;
    switch (m.kind) {
        case MechanismKind::All:
            if (!arg.empty()) {
                error = "\"all\" takes no argument";  // RFC 7208 §5.1
            }
            break;
        case MechanismKind::Include:
        case MechanismKind::Exists:
            error = take_domain(true);  // RFC 7208 §5.2, §5.7: domain-spec is mandatory
            break;
        case MechanismKind::Ptr:
            error = take_domain(false);  // RFC 7208 §5.5: no CIDR length
            break;
        case MechanismKind::A:
        case MechanismKind::Mx:
            error = split_dual_cidr(arg, m);  // RFC 7208 §5.3, §5.4
            if (!error) {
                error = take_domain(false);
            }
            break;
        case MechanismKind::Ip4:
        case MechanismKind::Ip6:
            if (arg.empty() || arg.front() != ':') {
                error = "address required";  // RFC 7208 §5.6
            } else {
                error = parse_ip_network(arg.substr(1), m);
            }
            break;
    }
    if (error) {
        return bad(term, *error);
    }
    return m;
}

// RFC 7208 §12: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
bool is_modifier_name(std::string_view name) {
    if (name.empty() || !is_alpha(name.front())) {
        return false;
    }
    for (const char c : name) {
        if (!is_alnum(c) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string_view to_string(MechanismKind kind) noexcept {
    switch (kind) {
        case MechanismKind::All:
            return "all";
        case MechanismKind::Include:
            return "include";
        case MechanismKind::A:
            return "a";
        case MechanismKind::Mx:
            return "mx";
        case MechanismKind::Ptr:
            return "ptr";
        case MechanismKind::Ip4:
            return "ip4";
        case MechanismKind::Ip6:
            return "ip6";
        case MechanismKind::Exists:
            return "exists";
    }
    return "?";
}

std::string SyntaxError::describe() const {
    if (term.empty()) {
        return reason;
    }
    return fmt::format("term '{}': {}", term, reason);
}

bool is_spf_record(std::string_view txt) noexcept {
    // RFC 7208 §4.5: "v=spf1" exactly, then a space or the end; case-insensitive (§4.6.1).
    return util::istarts_with(txt, kVersion) &&
           (txt.size() == kVersion.size() || txt[kVersion.size()] == ' ');
}

bool is_valid_domain_spec(std::string_view spec) {
    if (spec.empty() || !validate_macro_string(spec, MacroMode::DomainSpec)) {
        return false;
    }
    // Does the spec end in a macro-expand? (The string is known to be well formed.)
    bool ends_in_macro = false;
    for (std::size_t i = 0; i < spec.size();) {
        if (spec[i] == '%') {
            i = spec[i + 1] == '{' ? spec.find('}', i) + 1 : i + 2;
            ends_in_macro = true;
        } else {
            ++i;
            ends_in_macro = false;
        }
    }
    if (ends_in_macro) {
        return true;
    }
    // RFC 7208 §7.1: domain-end = ( "." toplabel [ "." ] ) / macro-expand
    std::string_view name = spec;
    if (name.back() == '.') {
        name.remove_suffix(1);
    }
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos) {
        return false;
    }
    return is_toplabel(name.substr(dot + 1));
}

std::expected<Record, SyntaxError> parse_record(std::string_view text) {
    if (!is_spf_record(text)) {
        return bad("", "not an SPF version 1 record");
    }
    if (text.size() > kMaxRecordOctets) {
        return bad("", fmt::format("record longer than {} octets", kMaxRecordOctets));
    }
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e) {  // RFC 7208 §3.1: records are 7-bit printable ASCII
            return bad("", fmt::format("character 0x{:02x} is not printable ASCII", u));
        }
    }
    Record record;
    record.text = std::string(text);
    std::size_t terms = 0;
    std::string_view rest = text.substr(kVersion.size());
    while (!rest.empty()) {
        const auto start = rest.find_first_not_of(' ');  // RFC 7208 §12: terms = *( 1*SP ...)
        if (start == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(start);
        const auto end = rest.find(' ');
        const std::string_view term = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        if (++terms > kMaxTerms) {
            return bad("", fmt::format("more than {} terms", kMaxTerms));
        }
        const auto separator = term.find_first_of(":/=");
        if (separator == std::string_view::npos || term[separator] != '=') {
            auto mechanism = parse_directive(term);
            if (!mechanism) {
                return std::unexpected(mechanism.error());
            }
            record.mechanisms.push_back(std::move(*mechanism));
            continue;
        }
        // RFC 7208 §6: modifier = redirect / explanation / unknown-modifier
        const std::string_view name = term.substr(0, separator);
        const std::string_view value = term.substr(separator + 1);
        if (!is_modifier_name(name)) {
            return bad(term, "invalid modifier name");
        }
        if (util::iequals(name, "redirect") || util::iequals(name, "exp")) {
            auto& slot = util::iequals(name, "redirect") ? record.redirect : record.exp;
            if (slot) {  // RFC 7208 §6: each may appear at most once
                return bad(term, fmt::format("\"{}\" appears twice", util::to_lower(name)));
            }
            if (!is_valid_domain_spec(value)) {
                return bad(term, "invalid domain-spec");
            }
            slot = std::string(value);
            continue;
        }
        if (auto valid = validate_macro_string(value, MacroMode::DomainSpec); !valid) {
            return bad(term, valid.error().message);  // RFC 7208 §12 unknown-modifier
        }
        record.unknown_modifiers.emplace_back(term);
    }
    return record;
}

}  // namespace mailwarden::auth::spf
