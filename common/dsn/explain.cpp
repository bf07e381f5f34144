#include "dsn/explain.hpp"

#include "smtp/diagnostic.hpp"
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
        const auto field_status = smtp::parse_enhanced_status(r.status);
        if (!diagnostic.status && field_status) {
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
            // A recipient refused only after the message was sent (end of DATA) was
            // accepted at RCPT: a filter refused the content, the mailbox exists.
            if (refined == Category::UserUnknown && diagnostic.command == "DATA") {
                refined = Category::Filtered;
            }
            // RFC 3464 §2.3.3: "delayed" means still trying; with no recognisable reason
            // the failure in progress is a time-out.
            if (r.action == "delayed" &&
                (refined == Category::Undefined || refined == Category::OnHold)) {
                refined = Category::Expired;
            }
            if (refined != match.category) {
                match = catalog.describe(refined, diagnostic, context);
            }
        }
        e.reason = match.category;
        // The DSN's own Status field is authoritative for the code it reports (RFC 3464
        // §2.3.4); the diagnostic's code, else the derived code, otherwise.
        e.status = field_status ? field_status->to_string() : match.status;
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
