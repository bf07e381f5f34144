// category.hpp - the closed taxonomy of delivery failure reasons (docs/explanations.md).
//
// Names are sisimai's reason names (v5) where sisimai has one, so events, JSON output and
// dashboards speak the vocabulary mail administrators already know. The set is closed: the
// catalog loader rejects a category not listed here.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace mailwarden::explain {

/// Why a message was not delivered (or, for the last four, what else a report said).
enum class Category {
    UserUnknown,      ///< the recipient mailbox does not exist
    MailboxFull,      ///< the recipient mailbox is over quota
    HostUnknown,      ///< the recipient domain does not exist or has no mail server
    Blocked,          ///< the sending IP or server was refused (blocklist, reputation, policy)
    SpamDetected,     ///< the message was judged to be spam
    PolicyViolation,  ///< the message broke a receiving-side policy (content, DMARC policy...)
    SecurityError,    ///< a security check or credential failed, cause not more specific
    AuthFailure,      ///< SPF, DKIM, DMARC or ARC validation failed
    Expired,          ///< delivery kept failing until the queue lifetime ran out
    MesgTooBig,       ///< the message is larger than the receiver accepts
    ExceedLimit,      ///< the message exceeds a per-mailbox size limit
    NoRelaying,       ///< the server refused to relay for that domain
    Speeding,         ///< too many messages too fast: rate limited
    TooManyConn,      ///< too many connections or recipients at once
    Rejected,         ///< the envelope sender was refused
    Suspend,          ///< the recipient mailbox is disabled or suspended
    SystemError,      ///< the receiving system failed or is misconfigured
    SystemFull,       ///< the receiving system is out of disk or resources
    NetworkError,     ///< DNS, routing or connection failure on the way
    ContentError,     ///< the message's format or encoding was refused
    VirusDetected,    ///< the message carried malware
    HasMoved,         ///< the recipient has moved and left no forwarding address
    Filtered,         ///< a recipient-side filter or preference refused the message
    NotAccept,        ///< the domain accepts no mail at all (null MX)
    SyntaxError,      ///< an SMTP command was malformed
    RequirePtr,       ///< the sending IP has no valid reverse DNS (PTR)
    BadReputation,    ///< the sending IP or domain has a poor reputation
    NotCompliantRfc,  ///< the message is not RFC 5322 compliant (duplicate headers...)
    MailerError,      ///< a local delivery program (pipe, procmail) failed
    OnHold,           ///< a reason could not be decided although an error was reported
    FailedStartTls,   ///< TLS was required and could not be negotiated
    Suppressed,       ///< the address is on the sending service's suppression list
    Undefined,        ///< nothing recognisable: no code, no known text
    Delivered,        ///< not a failure: a delivery (success) notification
    Feedback,         ///< not a failure: an ARF feedback-loop (complaint) report
    Vacation,         ///< not a failure: an auto-reply
};

/// Every category, in declaration order.
std::span<const Category> all_categories() noexcept;

/// The category's name as written in the catalog, events and JSON ("userunknown").
std::string_view to_string(Category category) noexcept;

/// Parses a category name (case-insensitive); nullopt when unknown.
std::optional<Category> parse_category(std::string_view name) noexcept;

/// The status code used when a bounce gives no enhanced code but the reason was recognised
/// from its text: sisimai's "5.0.9xx" internal codes (RFC 3463 §3.1 reserves nothing
/// against them; detail 9xx is unassigned), so our output compares with sisimai's.
std::string_view derived_status(Category category, bool permanent) noexcept;

}  // namespace mailwarden::explain
