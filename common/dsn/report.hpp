// report.hpp - a bounce as parsed: RFC 3464 delivery reports and non-standard bounces.
//
// parse_dsn() reads a whole message (bytes as received, CRLF or LF) with GMime 3 and
// returns what it reports per recipient, whether it is an RFC 3464 multipart/report, an
// ARF feedback report (RFC 5965), an auto-reply (RFC 3834) or one of the non-standard
// bounces real MTAs send (recognised by their text). Bounded (size, recipients); never
// throws; broken MIME, wrong charsets and missing fields give partial reports or errors.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace mailwarden::dsn {

/// How the report was recognised.
enum class ReportFormat {
    DeliveryStatus,  ///< RFC 3464 message/delivery-status part
    Heuristic,       ///< a non-standard bounce recognised by its text (qmail, Exchange...)
    Feedback,        ///< RFC 5965 ARF message/feedback-report
    AutoReply,       ///< RFC 3834 auto-reply (vacation)
};

/// "delivery-status", "heuristic", "feedback", "auto-reply".
std::string_view to_string(ReportFormat format) noexcept;

/// The per-recipient fields of RFC 3464 §2.3 (values trimmed and unfolded).
struct RecipientStatus {
    std::string final_recipient;     ///< address only, the "rfc822;" type removed
    std::string original_recipient;  ///< address only, when given
    std::string action;              ///< lower case: failed, delayed, delivered, relayed...
    std::string status;              ///< the Status field as written ("5.1.1"), may be empty
    std::string remote_mta;          ///< host name only, the "dns;" type removed
    std::string diagnostic_code;     ///< the whole value, e.g. "smtp; 550 5.1.1 ..."
    std::string last_attempt_date;
    std::string will_retry_until;
    std::string feedback_type;  ///< ARF only: abuse, fraud, opt-out, auth-failure...
};

/// Headers of the returned original message (from message/rfc822 or text/rfc822-headers).
struct OriginalMessage {
    std::string message_id;
    std::string subject;
    std::string from;
    std::string to;
};

/// One parsed bounce.
struct Report {
    ReportFormat format = ReportFormat::DeliveryStatus;
    std::string reporting_mta;  ///< per-message Reporting-MTA, type removed
    std::string arrival_date;
    std::string mta_queue_id;  ///< the original's queue id when the MTA says (X-Postfix-Queue-ID)
    std::string subject;       ///< the bounce's own Subject
    std::string from;          ///< the bounce's own From
    std::vector<RecipientStatus> recipients;
    OriginalMessage original;
};

/// Limits applied while parsing; each has its unit in its name.
struct ParseLimits {
    std::size_t max_message_bytes = 32u << 20;  ///< larger input is refused
    std::size_t max_recipients = 10'000;        ///< later recipients are dropped
    std::size_t max_text_bytes = 256u << 10;    ///< text scanned for non-standard bounces
};

/// Parses a bounce. InvalidInput when empty or over max_message_bytes; NotFound when the
/// message is not a bounce, report or auto-reply (ordinary mail). A report whose recipient
/// fields are missing is completed from its human-readable part when possible.
[[nodiscard]] util::Result<Report> parse_dsn(std::string_view message,
                                             const ParseLimits& limits = {});

}  // namespace mailwarden::dsn
