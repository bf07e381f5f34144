// diagnostic.hpp - SMTP replies and DSN diagnostics as real servers and MTAs write them.
//
// Accepts one reply or diagnostic in any of the shapes found in bounces: multi-line replies
// ("550-5.7.26 ..." continuation lines, also flattened onto one line), RFC 3464
// Diagnostic-Code values ("smtp; 550 ..."), MTA wrappers ("host mx[192.0.2.1] said: ...",
// Exim's "SMTP error from remote mail server after RCPT TO:<a@b>: ..."), RFC 3463 codes
// anywhere in the text, and missing or contradictory codes. Never fails and never throws:
// whatever cannot be recognised stays in `text`. Thread-safe (no shared state).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "smtp/enhanced_status.hpp"

namespace mailwarden::smtp {

/// What one diagnostic says, split into its parts.
struct Diagnostic {
    /// RFC 5321 basic reply code (2xx/4xx/5xx with a valid second digit), when one was found.
    std::optional<int> reply_code;
    /// RFC 3463 enhanced status code, when one was found (in the reply or in the text).
    std::optional<EnhancedStatus> status;
    /// The human text: codes, continuation prefixes, type prefix and host wrapper removed,
    /// lines joined with single spaces.
    std::string text;
    /// The server that gave the reply ("mx.example.com"), when the wrapper names it.
    std::string remote_host;
    /// Its IP address ("192.0.2.1"), when the wrapper names it.
    std::string remote_ip;
    /// The RFC 3464 diagnostic type ("smtp", "x-unix", "x-postfix"), lower case, or empty.
    std::string type;
    /// The SMTP command the reply answered ("RCPT", "MAIL", "DATA", "EHLO", "CONNECT"...),
    /// when the wrapper says so, else empty.
    std::string command;
    /// True when the basic code's class and the enhanced code's class disagree
    /// ("550 4.7.1"); both are kept as found.
    bool classes_disagree = false;

    /// Permanence as the sending MTA must act on it: the basic code's class when present
    /// (RFC 5321 §4.2.1), else the enhanced code's class; nullopt when neither exists.
    std::optional<bool> permanent() const;
};

/// Splits `input` (one reply, possibly multi-line or flattened, possibly wrapped) into its
/// parts. Total: any input, including empty or binary text, gives a Diagnostic.
Diagnostic parse_diagnostic(std::string_view input);

/// Parses a basic reply code at the start of `text` ("550", "421-"); nullopt unless it is
/// three digits, class 2/3/4/5, second digit 0-5, followed by end, space, '-' or tab.
std::optional<int> parse_reply_code(std::string_view text) noexcept;

}  // namespace mailwarden::smtp
