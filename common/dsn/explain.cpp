#include "dsn/explain.hpp"

#include "smtp/diagnostic.hpp"
#include "smtp/enhanced_status.hpp"
#include "util/ascii.hpp"

namespace mailwarden::dsn {

namespace {

using explain::Category;

std::string bare_address(std::string_view value) {
    const std::size_t open = value.find('<');
    const std::size_t close = value.find('>', open == std::string_view::npos ? 0 : open);
    if (open != std::string_view::npos && close != std::string_view::npos) {
        return std::string(util::trim(value.substr(open + 1, close - open - 1)));
    }
    return std::string(util::trim(value.substr(0, value.find(','))));
}

// The first enhanced code in the diagnostic (its own, then its text) whose subject and
// detail differ from `not_this`'s.
std::optional<smtp::EnhancedStatus> other_status(const smtp::Diagnostic& diagnostic,
                                                 const smtp::EnhancedStatus& not_this) {
    const auto differs = [&not_this](const smtp::EnhancedStatus& status) {
        return status.subject != not_this.subject || status.detail != not_this.detail;
    };
    if (diagnostic.status && differs(*diagnostic.status)) {
        return diagnostic.status;
    }
    const std::string_view text = diagnostic.text;
    for (std::size_t pos = 0; pos + 5 <= text.size(); ++pos) {
        if (pos > 0 && ((text[pos - 1] >= '0' && text[pos - 1] <= '9') || text[pos - 1] == '.')) {
            continue;
        }
        const std::size_t length = smtp::enhanced_status_length(text.substr(pos));
        if (length == 0) {
            continue;
        }
        if (const auto status = smtp::parse_enhanced_status(text.substr(pos, length));
            status && differs(*status)) {
            return status;
        }
        pos += length;
    }
    return std::nullopt;
}

bool is_failure_category(Category category) {
    return category != Category::Delivered && category != Category::Feedback &&
           category != Category::Vacation;
}

}  // namespace

bool RecipientExplanation::is_failure() const {
    if (action == "failed" || action == "delayed") {
        return true;
    }
    if (action.empty()) {
        return is_failure_category(reason);
    }
    return false;
}

std::vector<RecipientExplanation> explain(const Report& report, const explain::Catalog& catalog) {
    std::vector<RecipientExplanation> out;
    out.reserve(report.recipients.size());
    for (const RecipientStatus& r : report.recipients) {
        RecipientExplanation e;
        e.recipient = !r.final_recipient.empty() ? r.final_recipient : r.original_recipient;
        e.original_recipient = r.original_recipient;
        e.action = r.action;
        e.feedback_type = r.feedback_type;

        smtp::Diagnostic diagnostic = smtp::parse_diagnostic(r.diagnostic_code);
        // XXX: parse_enhanced_status("") is not nullopt in smtp/, so guard the empty field.
        auto field_status = r.status.empty() ? std::nullopt : smtp::parse_enhanced_status(r.status);
        // A generic Status field ("5.0.0", as Postfix writes for unknown codes) says less
        // than the code in the remote reply itself.
        if (field_status && field_status->subject == 0 && field_status->detail == 0 &&
            diagnostic.status && diagnostic.status->klass == field_status->klass) {
            field_status = diagnostic.status;
        }
        // Likewise a subject-only code ("5.1.0 - Unknown address error") that quotes the
        // remote's specific code of the same class ("'5.2.2 ... Mailbox Full'").
        if (field_status && field_status->detail == 0 && field_status->subject != 0) {
            if (const auto quoted = other_status(diagnostic, *field_status);
                quoted && quoted->klass == field_status->klass && quoted->detail != 0) {
                field_status = quoted;
                diagnostic.status = quoted;
            }
        }
        // RFC 3463 X.4.7: "the code for the actual problem found when delivery was
        // attempted should be returned rather than this code" - when the text names it
        // ("554 4.4.7 Message expired ... <421 4.4.2 Connection timed out>"), report that.
        const auto is_expiry = [](const std::optional<smtp::EnhancedStatus>& status) {
            return status && status->subject == 4 && status->detail == 7;
        };
        if (is_expiry(field_status) || is_expiry(diagnostic.status)) {
            if (const auto actual = other_status(diagnostic, smtp::EnhancedStatus{0, 4, 7})) {
                field_status = actual;
                diagnostic.status = actual;
            }
        }
        // Classification follows the report's Status (RFC 3464 §2.3.4) when the text has
        // no code of the same class (a transcript may quote "250 2.0.0" lines).
        if (field_status &&
            (!diagnostic.status || diagnostic.status->klass != field_status->klass)) {
            diagnostic.status = field_status;
        }
        explain::Context context;
        context.recipient = e.recipient;
        context.sender = bare_address(report.original.from);
        context.remote_host = r.remote_mta;

        explain::Match match;
        if (report.format == ReportFormat::Feedback) {
            match = catalog.describe(Category::Feedback, diagnostic, context);
        } else if (report.format == ReportFormat::AutoReply) {
            match = catalog.describe(Category::Vacation, diagnostic, context);
        } else if (r.action == "delivered" || r.action == "relayed" || r.action == "expanded") {
            match = catalog.describe(Category::Delivered, diagnostic, context);
        } else {
            match = catalog.classify(diagnostic, context);
            Category refined = match.category;
            // "User unknown" is also what recipient-side filters say after accepting RCPT TO
            // (sisimai's rule): a stage-dependent text is a filter decision unless the
            // refusal came at RCPT TO or carries an X.1.x address code. The code outweighs
            // the stage: with PIPELINING, Sendmail shows ">>> DATA" before the RCPT reply.
            // X.1.1 and X.1.3 name a bad destination mailbox; other X.1.x codes (5.1.0,
            // Microsoft's 5.1.351) do not tell an unknown user from a filter.
            const bool address_status =
                diagnostic.status && diagnostic.status->subject == 1 &&
                (diagnostic.status->detail == 1 || diagnostic.status->detail == 3);
            if (refined == Category::UserUnknown && !address_status && match.entry != nullptr &&
                match.entry->stage_dependent && diagnostic.command != "RCPT") {
                refined = Category::Filtered;
            }
            // A domain that does not resolve *for now* (4.x.x, still retrying) is a DNS
            // problem, not yet proof that the domain does not exist.
            const bool transient = r.action == "delayed" ||
                                   (field_status && field_status->klass == 4) ||
                                   (diagnostic.reply_code && *diagnostic.reply_code < 500);
            if (refined == Category::HostUnknown && transient) {
                refined = Category::NetworkError;
            }
            // RFC 3464 §2.3.3: "delayed" means still trying; with no recognisable reason
            // the failure in progress is a time-out.
            if (r.action == "delayed" &&
                (refined == Category::Undefined || refined == Category::OnHold)) {
                refined = Category::Expired;
            }
            // Without a telling text, the SMTP stage names the culprit: a refusal at
            // MAIL FROM concerns the sender, one at connection or EHLO the sending host;
            // a failing local delivery program (Diagnostic-Code type X-Unix) is a mailer
            // error.
            const bool vague =
                match.source != explain::MatchSource::Pattern &&
                (refined == Category::Undefined || refined == Category::OnHold ||
                 refined == Category::SecurityError || refined == Category::SyntaxError ||
                 refined == Category::SystemError);
            if (vague && diagnostic.command == "MAIL") {
                refined = Category::Rejected;
            } else if (vague && (diagnostic.command == "CONNECT" || diagnostic.command == "EHLO" ||
                                 diagnostic.command == "HELO")) {
                refined = Category::Blocked;
            } else if (vague && diagnostic.type.starts_with("x-unix")) {
                refined = Category::MailerError;
            }
            if (refined != match.category) {
                match = catalog.describe(refined, diagnostic, context);
            }
        }
        e.reason = match.category;
        // The DSN's own Status field is authoritative for the code it reports (RFC 3464
        // §2.3.4); the diagnostic's code, else the derived code, otherwise.
        if (field_status) {
            e.status = field_status->to_string();
        } else if (match.status_from_diagnostic || match.status.empty()) {
            e.status = match.status;
        } else {
            const bool transient = r.action == "delayed";
            e.status = std::string(
                explain::derived_status(match.category, transient ? false : match.permanent));
        }
        e.reply_code = match.reply_code;
        e.remote_host = !match.remote_host.empty() ? match.remote_host : r.remote_mta;
        if (r.action == "failed") {
            e.permanent = true;
        } else if (r.action == "delayed") {
            e.permanent = false;
        } else {
            e.permanent = match.permanent && is_failure_category(match.category);
        }
        e.summary = std::move(match.summary);
        e.user_text = std::move(match.user_text);
        e.admin_text = std::move(match.admin_text);
        e.diagnostic = diagnostic.text;
        e.entry_id = std::move(match.entry_id);
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace mailwarden::dsn
