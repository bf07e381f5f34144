// delivery_status.hpp - the fields of a message/delivery-status body (RFC 3464 §2.1-2.3).
//
// Pure text parsing, no MIME: groups of header-like fields separated by blank lines; the
// first group is per-message, the others per-recipient. Tolerates what real MTAs emit:
// CRLF or LF, folded values, missing blank lines between recipients (a new Final-Recipient
// starts a new recipient), case variations and unknown fields. Never fails.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dsn/report.hpp"

namespace mailwarden::dsn {

/// Per-message fields plus every recipient block found.
struct DeliveryStatusFields {
    std::string reporting_mta;
    std::string arrival_date;
    std::string mta_queue_id;  ///< X-Postfix-Queue-ID: the original message's queue id
    std::vector<RecipientStatus> recipients;
};

/// Parses a delivery-status (or feedback-report) body; at most `max_recipients` kept.
DeliveryStatusFields parse_delivery_status(std::string_view body, std::size_t max_recipients);

/// "rfc822; bob@example.org" -> "bob@example.org" (type removed, angle brackets removed).
std::string strip_address_type(std::string_view value);

/// Splits header-like text into (name, unfolded value) pairs, in order. Stops at the first
/// blank line when `stop_at_blank` is true.
std::vector<std::pair<std::string, std::string>> parse_fields(std::string_view text,
                                                              bool stop_at_blank);

}  // namespace mailwarden::dsn
