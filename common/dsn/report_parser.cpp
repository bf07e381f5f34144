// report_parser.cpp - parse_dsn(): GMime 3 walks the MIME tree of a bounce.
//
// Finds the message/delivery-status (RFC 3464 §2) or message/feedback-report (RFC 5965 §3)
// part, the human-readable text, and the returned original (message/rfc822 or
// text/rfc822-headers, RFC 6522 §3); then falls back to the text for non-standard bounces.
// GMime objects are owned by UniqueHandle (g_object_unref); recursion depth is bounded.
#include <gmime/gmime.h>
#include <re2/re2.h>

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "dsn/bounce_heuristics.hpp"
#include "dsn/delivery_status.hpp"
#include "dsn/gmime_support.hpp"
#include "dsn/report.hpp"
#include "smtp/diagnostic.hpp"
#include "util/ascii.hpp"
#include "util/unique_handle.hpp"

namespace mailwarden::dsn {

namespace {

constexpr int kMaxMimeDepth = 16;
constexpr std::size_t kMaxAutoReplyTextBytes = 512;

std::string header(GMimeObject* object, const char* name) {
    const char* value = g_mime_object_get_header(object, name);
    return value != nullptr ? std::string(util::trim(value)) : std::string();
}

// Decoded content of a leaf part (transfer encoding removed, charset untouched).
std::string part_bytes(GMimePart* part, std::size_t max_bytes) {
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (content == nullptr) {
        return "";
    }
    GObjectHandle<GMimeStream> stream(g_mime_stream_mem_new());
    if (g_mime_data_wrapper_write_to_stream(content, stream.get()) < 0) {
        return "";
    }
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream.get()));
    const std::size_t size = std::min<std::size_t>(bytes->len, max_bytes);
    return std::string(reinterpret_cast<const char*>(bytes->data), size);
}

// A text part as UTF-8 (GMime converts from the declared charset, guessing when wrong).
std::string part_text(GMimeObject* object, std::size_t max_bytes) {
    if (GMIME_IS_TEXT_PART(object)) {
        char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(object));
        if (text != nullptr) {
            std::string out(text, std::min<std::size_t>(std::strlen(text), max_bytes));
            g_free(text);
            return out;
        }
    }
    return GMIME_IS_PART(object) ? part_bytes(GMIME_PART(object), max_bytes) : std::string();
}

// Visible text of HTML: tags dropped, line breaks kept at block ends.
std::string strip_html(std::string_view html) {
    std::string out;
    bool in_tag = false;
    for (std::size_t i = 0; i < html.size(); ++i) {
        const char c = html[i];
        if (c == '<') {
            in_tag = true;
            const std::string_view rest = html.substr(i + 1, 4);
            if (util::istarts_with(rest, "br") || util::istarts_with(rest, "p") ||
                util::istarts_with(rest, "/p") || util::istarts_with(rest, "div") ||
                util::istarts_with(rest, "/div") || util::istarts_with(rest, "tr") ||
                util::istarts_with(rest, "li")) {
                out.push_back('\n');
            }
            continue;
        }
        if (c == '>') {
            in_tag = false;
            continue;
        }
        if (!in_tag) {
            out.push_back(c);
        }
    }
    return out;
}

// What the walk collects.
struct Parts {
    std::string delivery_status;
    bool has_delivery_status = false;
    std::string feedback_report;
    bool has_feedback_report = false;
    std::string text;
    std::string html;
    OriginalMessage original;
    bool has_original = false;
    /// An attached message that is itself a delivery report (a bounce forwarded as an
    /// attachment, or a bounce of a bounce), as bytes.
    std::string forwarded_report;
};

// Some MTAs write one delivery-status part per recipient: all are read, within the text
// limit (their per-message fields repeat and add no recipient).
void add_delivery_status(Parts& parts, std::string text, std::size_t max_bytes) {
    if (!parts.has_delivery_status) {
        parts.delivery_status = std::move(text);
        parts.delivery_status.resize(std::min(parts.delivery_status.size(), max_bytes));
        parts.has_delivery_status = true;
        return;
    }
    if (parts.delivery_status.size() + 2 >= max_bytes) {
        return;
    }
    const std::size_t room = max_bytes - parts.delivery_status.size() - 2;
    parts.delivery_status += "\n\n";
    parts.delivery_status.append(text, 0, std::min(text.size(), room));
}

OriginalMessage original_from_message(GMimeMessage* message) {
    OriginalMessage original;
    GMimeObject* object = GMIME_OBJECT(message);
    const char* id = g_mime_message_get_message_id(message);
    original.message_id = id != nullptr ? fmt::format("<{}>", id) : "";
    const char* subject = g_mime_message_get_subject(message);
    original.subject = subject != nullptr ? subject : "";
    original.from = header(object, "From");
    original.to = header(object, "To");
    return original;
}

OriginalMessage original_from_headers(std::string_view text) {
    OriginalMessage original;
    for (const auto& [name, value] : parse_fields(text, true)) {
        if (name == "message-id" && original.message_id.empty()) {
            original.message_id = value;
        } else if (name == "subject" && original.subject.empty()) {
            original.subject = value;
        } else if (name == "from" && original.from.empty()) {
            original.from = value;
        } else if (name == "to" && original.to.empty()) {
            original.to = value;
        }
    }
    return original;
}

void walk(GMimeObject* object, int depth, const ParseLimits& limits, Parts& parts) {
    if (object == nullptr || depth > kMaxMimeDepth) {
        return;
    }
    GMimeContentType* type = g_mime_object_get_content_type(object);
    const auto is = [type](const char* major, const char* minor) {
        return type != nullptr && g_mime_content_type_is_type(type, major, minor);
    };
    if (GMIME_IS_MULTIPART(object)) {
        GMimeMultipart* multipart = GMIME_MULTIPART(object);
        const int count = g_mime_multipart_get_count(multipart);
        for (int i = 0; i < count; ++i) {
            walk(g_mime_multipart_get_part(multipart, i), depth + 1, limits, parts);
        }
        return;
    }
    if (GMIME_IS_MESSAGE_PART(object)) {
        GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
        if (inner == nullptr) {
            return;
        }
        if (is("message", "delivery-status") || is("message", "feedback-report")) {
            char* text = g_mime_object_to_string(GMIME_OBJECT(inner), nullptr);
            std::string body = text != nullptr ? text : "";
            g_free(text);
            if (is("message", "delivery-status")) {
                add_delivery_status(parts, std::move(body), limits.max_text_bytes);
            } else {
                parts.feedback_report = std::move(body);
                parts.has_feedback_report = true;
            }
            return;
        }
        if (!parts.has_original) {
            parts.original = original_from_message(inner);
            parts.has_original = true;
            GMimeContentType* inner_type =
                g_mime_object_get_content_type(g_mime_message_get_mime_part(inner));
            const char* report_type =
                inner_type != nullptr ? g_mime_content_type_get_parameter(inner_type, "report-type")
                                      : nullptr;
            if (report_type != nullptr && util::iequals(report_type, "delivery-status")) {
                char* bytes = g_mime_object_to_string(GMIME_OBJECT(inner), nullptr);
                if (bytes != nullptr) {
                    parts.forwarded_report = bytes;
                    g_free(bytes);
                }
            }
        }
        return;  // the returned original's own parts are not the bounce's text
    }
    if (is("message", "delivery-status") || is("message", "global-delivery-status")) {
        add_delivery_status(parts, part_text(object, limits.max_text_bytes), limits.max_text_bytes);
        return;
    }
    if (is("message", "feedback-report")) {
        parts.feedback_report = part_text(object, limits.max_text_bytes);
        parts.has_feedback_report = true;
        return;
    }
    if (is("text", "rfc822-headers") || is("message", "global-headers")) {
        if (!parts.has_original) {
            parts.original = original_from_headers(part_text(object, limits.max_text_bytes));
            parts.has_original = true;
        }
        return;
    }
    if (is("text", "plain") || type == nullptr) {
        if (parts.text.size() < limits.max_text_bytes) {
            if (!parts.text.empty()) {
                parts.text += '\n';
            }
            parts.text += part_text(object, limits.max_text_bytes - parts.text.size());
        }
        return;
    }
    if (is("text", "html") && parts.html.empty()) {
        parts.html = strip_html(part_text(object, limits.max_text_bytes));
    }
}

// "Name <a@b>" or "a@b" -> "a@b".
std::string bare_address(std::string_view value) {
    const std::size_t open = value.find('<');
    const std::size_t close = value.find('>', open == std::string_view::npos ? 0 : open);
    if (open != std::string_view::npos && close != std::string_view::npos) {
        return std::string(util::trim(value.substr(open + 1, close - open - 1)));
    }
    const std::size_t comma = value.find(',');
    return std::string(util::trim(value.substr(0, comma)));
}

bool is_system_address(std::string_view address) {
    const std::string lower = util::to_lower(address);
    return lower.starts_with("mailer-daemon@") || lower.starts_with("postmaster@") ||
           lower.starts_with("mailer_daemon@") || lower.starts_with("mail-daemon@");
}

bool says_delayed(std::string_view text) {
    const std::string lower = util::to_lower(text.substr(0, 4096));
    for (const char* phrase :
         {"delivery has been delayed", "has been delayed", "will be retried", "still trying",
          "warning: could not send", "delayed mail", "will continue trying", "delivery delayed",
          "not yet been delivered", "has not yet been delivered"}) {
        if (lower.find(phrase) != std::string::npos) {
            return true;
        }
    }
    return false;
}

bool is_auto_reply(GMimeObject* top, std::string_view subject) {
    const std::string submitted = util::to_lower(header(top, "Auto-Submitted"));
    if (submitted.starts_with("auto-replied")) {
        return true;
    }
    if (!header(top, "X-Autoreply").empty() || !header(top, "X-Autorespond").empty()) {
        return true;
    }
    if (util::iequals(header(top, "Precedence"), "auto_reply")) {
        return true;
    }
    const std::string lower = util::to_lower(subject);
    for (const char* prefix :
         {"auto:", "automatic reply", "autoreply", "auto-reply", "out of office",
          "out of the office", "abwesenheit", "vacation", "away from"}) {
        if (lower.starts_with(prefix)) {
            return true;
        }
    }
    return false;
}

// The body of a raw message (after the first empty line), at most `max_bytes`.
std::string raw_body(std::string_view message, std::size_t max_bytes) {
    std::size_t at = message.find("\n\n");
    std::size_t skip = 2;
    if (const std::size_t crlf = message.find("\r\n\r\n");
        crlf != std::string_view::npos && (at == std::string_view::npos || crlf < at)) {
        at = crlf;
        skip = 4;
    }
    if (at == std::string_view::npos) {
        return "";
    }
    return std::string(message.substr(at + skip, max_bytes));
}

// Where delivery-status fields start in prose (a line beginning "Reporting-MTA:" or
// "Final-Recipient:"), npos when there are none.
std::size_t embedded_report(std::string_view text) {
    std::size_t best = std::string_view::npos;
    for (const std::string_view field :
         {"reporting-mta:", "final-recipient:", "original-recipient:"}) {
        std::size_t pos = 0;
        while (pos < text.size()) {
            const std::size_t end = text.find('\n', pos);
            const std::string_view line = util::trim(text.substr(
                pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
            if (util::istarts_with(line, field)) {
                const std::size_t at = static_cast<std::size_t>(line.data() - text.data());
                best = std::min(best, at);
                break;
            }
            if (end == std::string_view::npos) {
                break;
            }
            pos = end + 1;
        }
    }
    // Only a report when a recipient field is there too.
    if (best != std::string_view::npos &&
        util::to_lower(text.substr(best)).find("final-recipient:") == std::string::npos &&
        util::to_lower(text.substr(best)).find("original-recipient:") == std::string::npos) {
        return std::string_view::npos;
    }
    return best;
}

// Amazon SES notifications (JSON, often as an escaped string inside an SNS envelope):
// bounces, deliveries and complaints with per-recipient emailAddress/action/status/
// diagnosticCode. Regexes on a bounded text, no JSON parser: only these fields are read.
bool parse_ses_notification(std::string_view text, const ParseLimits& limits, Report& report) {
    if (text.find("notificationType") == std::string_view::npos) {
        return false;
    }
    std::string json(text.substr(0, limits.max_text_bytes));
    for (std::size_t at = 0; (at = json.find("\\\"", at)) != std::string::npos;) {
        json.replace(at, 2, "\"");  // \" -> "
    }
    static const RE2 kType(R"re("notificationType"\s*:\s*"(\w+)")re");
    static const RE2 kObject(R"re((\{[^{}]*"emailAddress"\s*:\s*"[^"]+"[^{}]*\}))re");
    static const RE2 kAddress(R"re("emailAddress"\s*:\s*"([^"]+)")re");
    static const RE2 kStatus(R"re("status"\s*:\s*"([^"]*)")re");
    static const RE2 kAction(R"re("action"\s*:\s*"([^"]*)")re");
    static const RE2 kDiagnostic(R"re("diagnosticCode"\s*:\s*"([^"]*)")re");
    static const RE2 kReportingMta(R"re("reportingMTA"\s*:\s*"([^"]*)")re");
    static const RE2 kRecipients(R"re("recipients"\s*:\s*\[([^\]]*)\])re");
    static const RE2 kSmtpResponse(R"re("smtpResponse"\s*:\s*"([^"]*)")re");
    static const RE2 kQuoted(R"re("([^"]+)")re");
    static const RE2 kFeedbackType(R"re("complaintFeedbackType"\s*:\s*"([^"]*)")re");
    std::string type;
    if (!RE2::PartialMatch(json, kType, &type)) {
        return false;
    }
    std::string reporting_mta;
    if (RE2::PartialMatch(json, kReportingMta, &reporting_mta)) {
        report.reporting_mta = strip_address_type(reporting_mta);
    }
    if (type == "Delivery") {
        std::string list, response;
        RE2::PartialMatch(json, kRecipients, &list);
        RE2::PartialMatch(json, kSmtpResponse, &response);
        re2::StringPiece input(list);
        std::string address;
        while (RE2::FindAndConsume(&input, kQuoted, &address) &&
               report.recipients.size() < limits.max_recipients) {
            RecipientStatus r;
            r.final_recipient = address;
            r.action = "delivered";
            r.diagnostic_code = response;
            report.recipients.push_back(std::move(r));
        }
        report.format = ReportFormat::DeliveryStatus;
        return !report.recipients.empty();
    }
    re2::StringPiece input(json);
    std::string object;
    while (RE2::FindAndConsume(&input, kObject, &object) &&
           report.recipients.size() < limits.max_recipients) {
        RecipientStatus r;
        RE2::PartialMatch(object, kAddress, &r.final_recipient);
        RE2::PartialMatch(object, kStatus, &r.status);
        RE2::PartialMatch(object, kAction, &r.action);
        RE2::PartialMatch(object, kDiagnostic, &r.diagnostic_code);
        if (type == "Complaint") {
            RE2::PartialMatch(json, kFeedbackType, &r.feedback_type);
        } else if (r.action.empty()) {
            r.action = "failed";
        }
        report.recipients.push_back(std::move(r));
    }
    report.format = type == "Complaint" ? ReportFormat::Feedback : ReportFormat::DeliveryStatus;
    return !report.recipients.empty();
}

// Postfix's wording of an SMTP stage, as parse_diagnostic reads it back.
std::string_view stage_phrase(std::string_view verb) {
    if (verb == "RCPT") {
        return "RCPT TO";
    }
    if (verb == "MAIL") {
        return "MAIL FROM";
    }
    if (verb == "DATA") {
        return "end of DATA";
    }
    if (verb == "CONNECT") {
        return "initial connection";
    }
    return verb;
}

// Recipients of a bounce that has no usable delivery-status part.
void recipients_from_text(std::string_view text, const std::string& failed_header,
                          const Parts& parts, const ParseLimits& limits, Report& report) {
    const std::string_view section = error_section(text);
    std::vector<TextFinding> findings = find_failed_recipients(section, limits.max_recipients);
    std::erase_if(findings, [&](const TextFinding& f) {
        return is_system_address(f.recipient) ||
               util::iequals(f.recipient, bare_address(report.from));
    });
    const std::string action = says_delayed(section) ? "delayed" : "failed";
    std::vector<std::string> listed;
    for (const std::string_view item : util::split(failed_header, ',')) {
        if (const std::string address = bare_address(item); !address.empty()) {
            listed.push_back(address);
        }
    }
    const auto add = [&](std::string recipient, std::string diagnostic) {
        if (report.recipients.size() >= limits.max_recipients) {
            return;
        }
        RecipientStatus r;
        r.final_recipient = std::move(recipient);
        r.action = action;
        r.diagnostic_code = std::move(diagnostic);
        report.recipients.push_back(std::move(r));
    };
    if (!listed.empty()) {
        // Exim's X-Failed-Recipients names exactly who failed.
        for (const std::string& address : listed) {
            std::string diagnostic;
            for (const TextFinding& f : findings) {
                if (util::iequals(f.recipient, address)) {
                    diagnostic = f.diagnostic;
                }
            }
            if (diagnostic.empty()) {
                diagnostic = diagnostic_near(section, address);
            }
            add(address, diagnostic.empty() ? squeeze(section, 2048) : diagnostic);
        }
        return;
    }
    for (TextFinding& f : findings) {
        add(std::move(f.recipient),
            f.diagnostic.empty() ? squeeze(section, 2048) : std::move(f.diagnostic));
    }
    if (report.recipients.empty()) {
        add(bare_address(parts.original.to), squeeze(section, 2048));
    }
}

// A Status that says little - generic X.0.0, or X.4.7 "delivery time expired", which
// RFC 3463 wants replaced by the actual problem - with a diagnostic that quotes no other
// code: a single-recipient report's human-readable part often has the remote reply that
// does ("554 5.3.0 unknown mailer error 255", "returned '441 4.4.1 Error ...'"). Returns
// that reply (squeezed, at most 200 bytes), or "".
std::string better_reply_in(std::string_view section, const RecipientStatus& r) {
    const auto status = r.status.empty() ? std::nullopt : smtp::parse_enhanced_status(r.status);
    if (!status) {
        return "";
    }
    const bool generic = status->subject == 0 && status->detail == 0;
    const bool expiry = status->subject == 4 && status->detail == 7;
    if (!generic && !expiry) {
        return "";
    }
    const smtp::Diagnostic diagnostic = smtp::parse_diagnostic(r.diagnostic_code);
    if (diagnostic.status && (diagnostic.status->subject != status->subject ||
                              diagnostic.status->detail != status->detail)) {
        return "";
    }
    static const RE2 reply(
        R"((?:^|[\s'"(])([245][0-9][0-9][ -]([245])\.([0-9]{1,3})\.([0-9]{1,3})\b[^\n]*))");
    re2::StringPiece input(section.data(), std::min<std::size_t>(section.size(), 64u << 10));
    re2::StringPiece line, klass, subject, detail;
    while (RE2::FindAndConsume(&input, reply, &line, &klass, &subject, &detail)) {
        const int k = klass[0] - '0';
        const int sub = std::atoi(std::string(subject.data(), subject.size()).c_str());
        const int det = std::atoi(std::string(detail.data(), detail.size()).c_str());
        const bool same = sub == status->subject && det == status->detail;
        if (k == status->klass && !same && !(sub == 0 && det == 0)) {
            return squeeze(std::string_view(line.data(), line.size()), 200);
        }
    }
    return "";
}

}  // namespace

std::string_view to_string(ReportFormat format) noexcept {
    switch (format) {
        case ReportFormat::DeliveryStatus:
            return "delivery-status";
        case ReportFormat::Heuristic:
            return "heuristic";
        case ReportFormat::Feedback:
            return "feedback";
        case ReportFormat::AutoReply:
            return "auto-reply";
    }
    return "heuristic";
}

namespace {

util::Result<Report> parse_nested(std::string_view message, const ParseLimits& limits, bool nested);

}  // namespace

util::Result<Report> parse_dsn(std::string_view message, const ParseLimits& limits) {
    return parse_nested(message, limits, false);
}

namespace {

// parse_dsn; `nested` is set while reading a report attached to the message, which is
// read at most one level deep.
util::Result<Report> parse_nested(std::string_view message, const ParseLimits& limits,
                                  bool nested) {
    if (message.empty()) {
        return util::fail(util::ErrorCode::InvalidInput, "empty message");
    }
    if (message.size() > limits.max_message_bytes) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("message of {} bytes exceeds the {} byte limit",
                                      message.size(), limits.max_message_bytes));
    }
    ensure_gmime();
    GObjectHandle<GMimeStream> stream(
        g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
    GObjectHandle<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    GObjectHandle<GMimeMessage> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!parsed) {
        return util::fail(util::ErrorCode::InvalidInput, "not a MIME message");
    }
    GMimeObject* top = GMIME_OBJECT(parsed.get());

    Report report;
    const char* subject = g_mime_message_get_subject(parsed.get());
    report.subject = subject != nullptr ? subject : "";
    report.from = header(top, "From");

    Parts parts;
    walk(g_mime_message_get_mime_part(parsed.get()), 0, limits, parts);
    report.original = parts.original;
    std::string text = !parts.text.empty() ? parts.text : parts.html;
    const std::string failed_header = header(top, "X-Failed-Recipients");
    if (text.empty() && !parts.has_delivery_status) {
        // Broken MIME (a boundary that never occurs): GMime finds no parts; read the raw
        // body as text.
        text = raw_body(message, limits.max_text_bytes);
    }
    if (!parts.has_delivery_status) {
        // A delivery report pasted as text (forwarded bounces, broken MIME, "Technical
        // report:" sections): its fields are still there.
        if (const std::size_t at = embedded_report(text); at != std::string::npos) {
            parts.delivery_status = text.substr(at);
            parts.has_delivery_status = true;
        }
    }

    if (parts.has_delivery_status) {
        DeliveryStatusFields fields =
            parse_delivery_status(parts.delivery_status, limits.max_recipients);
        report.reporting_mta = std::move(fields.reporting_mta);
        report.arrival_date = std::move(fields.arrival_date);
        report.mta_queue_id = std::move(fields.mta_queue_id);
        report.recipients = std::move(fields.recipients);
        std::erase_if(report.recipients, [](const RecipientStatus& r) {
            return r.final_recipient.empty() && r.original_recipient.empty() &&
                   r.diagnostic_code.empty() && r.status.empty();
        });
        const std::string_view section = error_section(text);
        std::vector<TextFinding> findings;
        bool searched = false;
        for (RecipientStatus& r : report.recipients) {
            if (r.final_recipient.empty()) {
                r.final_recipient = r.original_recipient;
            }
            if (!r.diagnostic_code.empty() && report.recipients.size() == 1) {
                if (const std::string better = better_reply_in(section, r); !better.empty()) {
                    r.diagnostic_code += fmt::format(" (report text: {})", better);
                }
            }
            if (!r.diagnostic_code.empty()) {
                // MTAs often name the SMTP stage only in the human-readable part (Postfix
                // "(in reply to RCPT TO command)", Exim "after EHLO", Sendmail ">>> RCPT"):
                // carry it over to the diagnostic in Postfix's words.
                if (smtp::parse_diagnostic(r.diagnostic_code).command.empty()) {
                    if (!searched) {
                        findings = find_failed_recipients(section, limits.max_recipients);
                        searched = true;
                    }
                    for (const TextFinding& f : findings) {
                        if (!util::iequals(f.recipient, r.final_recipient)) {
                            continue;
                        }
                        const std::string flat = squeeze(f.diagnostic, f.diagnostic.size());
                        const std::string stage = smtp::parse_diagnostic(flat).command;
                        if (util::to_lower(flat).find("refused to talk to me") !=
                            std::string::npos) {
                            r.diagnostic_code += " (refused to talk to me)";
                        } else if (!stage.empty()) {
                            r.diagnostic_code +=
                                fmt::format(" (in reply to {} command)", stage_phrase(stage));
                        }
                        break;
                    }
                }
                continue;
            }
            // No Diagnostic-Code: the human-readable part usually says it, next to the
            // address ("<bob@example.org>: host mx[192.0.2.1] said: 550 ...").
            if (!searched) {
                findings = find_failed_recipients(section, limits.max_recipients);
                searched = true;
            }
            for (const TextFinding& f : findings) {
                if (util::iequals(f.recipient, r.final_recipient) ||
                    util::iequals(f.recipient, r.original_recipient)) {
                    r.diagnostic_code = f.diagnostic;
                    break;
                }
            }
            if (r.diagnostic_code.empty()) {
                r.diagnostic_code = diagnostic_near(section, r.final_recipient);
            }
        }
        if (!report.recipients.empty()) {
            report.format = ReportFormat::DeliveryStatus;
            return report;
        }
    }
    // A bounce whose own text names no failed recipient but that carries the MTA's
    // report as an attachment (forwarded by a gateway or a user): read the attachment.
    if (!parts.has_delivery_status && !parts.has_feedback_report && !nested &&
        !parts.forwarded_report.empty()) {
        if (auto inner = parse_nested(parts.forwarded_report, limits, true);
            inner && !inner->recipients.empty()) {
            return inner;
        }
    }
    if (parts.has_feedback_report) {
        report.format = ReportFormat::Feedback;
        RecipientStatus r;
        for (const auto& [name, value] : parse_fields(parts.feedback_report, false)) {
            if (name == "feedback-type" && r.feedback_type.empty()) {
                r.feedback_type = util::to_lower(value);
            } else if ((name == "original-rcpt-to" || name == "removal-recipient") &&
                       r.final_recipient.empty()) {
                r.final_recipient = strip_address_type(value);
            }
        }
        if (r.final_recipient.empty()) {
            r.final_recipient = bare_address(parts.original.to);
        }
        r.diagnostic_code = squeeze(text, 1024);
        report.recipients.push_back(std::move(r));
        return report;
    }
    if (parse_ses_notification(text, limits, report)) {
        return report;
    }
    // Hotmail/Outlook.com JMRP complaints: the original attached as message/rfc822 under a
    // "complaint about message from <IP>" subject.
    if (util::istarts_with(util::trim(report.subject), "complaint about message from")) {
        report.format = ReportFormat::Feedback;
        RecipientStatus r;
        r.final_recipient = bare_address(parts.original.to);
        r.feedback_type = "abuse";
        r.diagnostic_code = report.subject;
        report.recipients.push_back(std::move(r));
        return report;
    }
    const std::string report_type = [&] {
        GMimeContentType* type = g_mime_object_get_content_type(top);
        const char* value =
            type != nullptr ? g_mime_content_type_get_parameter(type, "report-type") : nullptr;
        return value != nullptr ? util::to_lower(value) : std::string();
    }();
    if (!failed_header.empty() || report_type == "delivery-status" ||
        looks_like_bounce(report.from, report.subject)) {
        report.format = ReportFormat::Heuristic;
        recipients_from_text(text, failed_header, parts, limits, report);
        return report;
    }
    if (is_auto_reply(top, report.subject)) {
        report.format = ReportFormat::AutoReply;
        RecipientStatus r;
        r.final_recipient = bare_address(report.from);
        r.diagnostic_code = squeeze(text, kMaxAutoReplyTextBytes);
        report.recipients.push_back(std::move(r));
        return report;
    }
    return util::fail(util::ErrorCode::NotFound, "not a bounce, delivery report or auto-reply");
}

}  // namespace
}  // namespace mailwarden::dsn
