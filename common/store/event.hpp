// event.hpp - one recorded event: a decision that was not a plain accept, or (later) an
// outgoing failure reported back in a bounce.
//
// Events are plain data with string-valued enums so that the store needs no knowledge of
// the policy layer. They encode to flat field/value pairs (Redis stream entries) and to
// JSON (journal lines, `mailwardenctl events --json`); both encodings round-trip.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "util/clock.hpp"
#include "util/error.hpp"

namespace mailwarden::store {

/// A recorded event. Every field is optional except `time` and `kind`.
struct Event {
    util::SystemTime time;       ///< when the decision was taken
    std::string id;              ///< assigned by the store (stream id); empty before append
    std::string kind;            ///< "decision" | "outgoing_failure"
    std::string queue_id;        ///< MTA queue id, or "NOQUEUE"
    std::string direction;       ///< "inbound" | "outbound"
    std::string stage;           ///< "connect" | "helo" | "mail" | "rcpt" | "eom" ...
    std::string check;           ///< the check that decided ("access_list", "spf", ...)
    std::string action;          ///< "reject" | "tempfail" | "quarantine" | "discard" ...
    int reply_code = 0;          ///< basic SMTP code, 0 when none
    std::string enhanced_code;   ///< RFC 3463 code, empty when none
    std::string reply_text;      ///< the reply text lines joined with " / "
    std::string reason;          ///< why, for the admin
    std::string category;        ///< explanation category (bounces), optional
    std::string sender;          ///< envelope sender ("" for the null sender)
    std::string login;           ///< SASL login, empty when not authenticated
    std::string client_address;  ///< client IP as text
    std::string client_name;     ///< client host name as the MTA resolved it
    std::string helo;            ///< HELO/EHLO name
    std::string remote_host;     ///< remote MTA for outgoing failures
    std::vector<std::string> recipients;
    std::string node;  ///< host name of the MTA/milter that recorded it
    /// Outgoing failures: the Message-ID of the failed message, when the bounce returned it.
    std::string message_id;
    /// Outgoing failures: the queue id of the bounce itself (queue_id is the original's
    /// when the bounce names it, as Postfix does).
    std::string report_queue_id;

    friend bool operator==(const Event&, const Event&) = default;
};

/// Field/value pairs for a Redis stream entry (time in milliseconds since the epoch,
/// recipients joined with ','). Empty fields are left out.
std::vector<std::pair<std::string, std::string>> to_fields(const Event& event);

/// The inverse of to_fields; unknown fields are ignored, a bad time is InvalidInput.
util::Result<Event> from_fields(const std::vector<std::pair<std::string, std::string>>& fields);

/// JSON object with the same field names (time as RFC 3339 UTC text and as "time_ms").
nlohmann::json to_json(const Event& event);

/// The inverse of to_json; InvalidInput when `json` is not an object or has a bad time.
util::Result<Event> from_json(const nlohmann::json& json);

/// Milliseconds since the epoch.
std::int64_t to_unix_ms(util::SystemTime t);
/// RFC 3339 UTC text with milliseconds ("2026-11-23T16:21:44.123Z").
std::string to_rfc3339(util::SystemTime t);
/// Parses RFC 3339 date-time text ("Z" or a numeric offset, optional fraction);
/// InvalidInput when it is not one.
util::Result<util::SystemTime> parse_rfc3339(std::string_view text);

}  // namespace mailwarden::store
