// received_spf.cpp - Received-SPF header values (RFC 7208 §9.1).
#include "auth/spf/received_spf.hpp"

#include <fmt/format.h>

namespace mailwarden::auth::spf {

namespace {

// RFC 5322 §3.2.3 atext, plus '.' between atoms: what a dot-atom value may hold.
bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
}

// RFC 7208 §9.1 key=value value: as is when it is a dot-atom, else a quoted-string with only
// printable ASCII (RFC 5322 §3.2.4); anything else is replaced by '?'.
std::string value_of(std::string_view text) {
    bool token = !text.empty();
    for (const char c : text) {
        token = token && is_token_char(c);
    }
    if (token) {
        return std::string(text);
    }
    std::string out = "\"";
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e) {
            out += '?';
        } else {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
    }
    out += '"';
    return out;
}

std::string comment_safe(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u > 0x7e || c == '(' || c == ')' || c == '\\') ? '?' : c;
    }
    return out;
}

}  // namespace

std::string result_comment(const Outcome& outcome, const util::IpAddress& client_ip) {
    const std::string who = outcome.identity == Identity::Helo
                                ? fmt::format("helo {}", outcome.domain)
                                : fmt::format("domain of {}", outcome.sender);
    const std::string ip = client_ip.to_string();
    switch (outcome.result) {
        case Result::Pass:
            return fmt::format("{} designates {} as permitted sender", who, ip);
        case Result::Fail:
            return fmt::format("{} does not designate {} as permitted sender", who, ip);
        case Result::SoftFail:
            return fmt::format("{} discourages use of {} as permitted sender", who, ip);
        case Result::Neutral:
            return fmt::format("{} makes no assertion about {}", who, ip);
        case Result::None:
            return fmt::format("{} has no SPF policy for {}", who, ip);
        case Result::TempError:
            return fmt::format("temporary error checking {}", who);
        case Result::PermError:
            return fmt::format("permanent error in the SPF record for {}", who);
    }
    return {};
}

std::string received_spf_value(const Outcome& outcome, const ReceivedSpfContext& context) {
    std::string out = fmt::format(
        "{} ({}: {}; {})", to_string(outcome.result), comment_safe(context.receiver),
        comment_safe(result_comment(outcome, context.client_ip)), outcome.short_trace());
    out += fmt::format(" client-ip={};", context.client_ip.to_string());
    out += fmt::format(
        " envelope-from={};",
        value_of(context.envelope_from.empty() ? std::string_view("<>") : context.envelope_from));
    if (!context.helo.empty()) {
        out += fmt::format(" helo={};", value_of(context.helo));
    }
    if (!context.receiver.empty()) {
        out += fmt::format(" receiver={};", value_of(context.receiver));
    }
    out += fmt::format(" identity={}", to_string(outcome.identity));
    if (!outcome.trace.decided_by.empty()) {
        out += fmt::format("; mechanism={}", value_of(outcome.trace.decided_by));
    }
    if ((outcome.result == Result::TempError || outcome.result == Result::PermError) &&
        !outcome.trace.error.empty()) {
        out += fmt::format("; problem={}", value_of(outcome.trace.error));
    }
    return out;
}

}  // namespace mailwarden::auth::spf
