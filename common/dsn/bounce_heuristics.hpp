// bounce_heuristics.hpp - recognising non-standard bounces by their text.
//
// Many MTAs and services (qmail, Exim without DSN, old Sendmail and Postfix, Exchange and
// Office 365 NDRs, Gmail, Yahoo, Notes, ...) say who failed and why only in prose. These
// functions find the failed recipients and their diagnostic lines in that prose: an address
// at the start of a line ("<bob@example.org>:", "bob@example.org", Sendmail's
// "<bob@...>... User unknown") followed by the reply text. Pure functions on UTF-8 text,
// bounded by the caller's limits; never fail.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailwarden::dsn {

/// A recipient found in a bounce's text and the text that explains its failure.
struct TextFinding {
    std::string recipient;
    std::string diagnostic;  ///< the lines after the address, joined; may be empty
};

/// The part of a bounce's text before the returned original message ("----- This is a copy
/// of the message", "Original message follows", ...); the whole text when no marker.
std::string_view error_section(std::string_view text);

/// Failed recipients named in `text` (an error section), in order, without duplicates; at
/// most `max_recipients`.
std::vector<TextFinding> find_failed_recipients(std::string_view text, std::size_t max_recipients);

/// The text that follows the first mention of `address` in `text` (up to a few lines),
/// used when a DSN names the recipient but gives no Diagnostic-Code; empty when absent.
std::string diagnostic_near(std::string_view text, std::string_view address);

/// Whether the bounce's own headers mark it as a delivery failure notice (sender
/// MAILER-DAEMON/postmaster, subjects such as "Undelivered Mail Returned to Sender").
bool looks_like_bounce(std::string_view from, std::string_view subject);

/// The text stripped to what a reader sees: lines joined, runs of blanks collapsed.
std::string squeeze(std::string_view text, std::size_t max_bytes);

}  // namespace mailwarden::dsn
