#include "policy/checks/bounce_check.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "dsn/bounce_heuristics.hpp"
#include "dsn/explain.hpp"
#include "dsn/report.hpp"
#include "dsn/rewrite.hpp"
#include "util/ascii.hpp"

namespace mailwarden::policy {

namespace {

std::string header_of(const Transaction& tx, std::string_view name) {
    for (const auto& h : tx.message.headers) {
        if (util::iequals(util::trim(h.name), name)) {
            return std::string(util::trim(h.value));
        }
    }
    return {};
}

// What the header alone says: a multipart/report or a bounce's From/Subject.
bool header_says_bounce(const Transaction& tx) {
    const std::string type = util::to_lower(header_of(tx, "Content-Type"));
    if (type.find("multipart/report") != std::string::npos &&
        type.find("delivery-status") != std::string::npos) {
        return true;
    }
    return dsn::looks_like_bounce(header_of(tx, "From"), header_of(tx, "Subject"));
}

std::string domain_of(std::string_view address) {
    const auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : util::to_lower(address.substr(at + 1));
}

// The original sender: the DSN's envelope recipient (Postfix sends exactly one), else the
// returned message's From.
std::string original_sender(const Transaction& tx, const dsn::Report& report) {
    for (const auto& r : tx.message.recipients) {
        if (!r.is_null()) {
            return r.to_string();
        }
    }
    std::string from = report.original.from;
    const auto open = from.find('<');
    const auto close = from.find('>', open == std::string::npos ? 0 : open);
    if (open != std::string::npos && close != std::string::npos) {
        from = from.substr(open + 1, close - open - 1);
    }
    return std::string(util::trim(from));
}

OutgoingFailure failure_of(const dsn::RecipientExplanation& e, const dsn::Report& report,
                           const std::string& sender, const std::string& login) {
    OutgoingFailure f;
    f.original_sender = sender;
    f.login = login;
    f.recipient = e.recipient;
    f.recipient_domain = domain_of(e.recipient);
    f.remote_host = e.remote_host;
    f.action = e.action.empty() ? (e.permanent ? "failed" : "delayed") : e.action;
    f.permanent = e.permanent;
    f.reply_code = e.reply_code.value_or(0);
    f.enhanced_code = e.status;
    f.category = std::string(explain::to_string(e.reason));
    f.summary = e.summary;
    f.diagnostic = e.diagnostic;
    f.entry_id = e.entry_id;
    f.original_message_id = report.original.message_id;
    f.original_queue_id = report.mta_queue_id;
    f.report_format = std::string(dsn::to_string(report.format));
    return f;
}

// "userunknown" or "userunknown, mailboxfull": the distinct categories in order.
std::string categories_of(const std::vector<dsn::RecipientExplanation>& failures) {
    std::string out;
    std::set<std::string, std::less<>> seen;
    for (const auto& f : failures) {
        const std::string_view category = explain::to_string(f.reason);
        if (seen.insert(std::string(category)).second) {
            out += out.empty() ? "" : ", ";
            out += category;
        }
    }
    return out;
}

// Header edits that go with a rewrite: earlier copies of our header removed (a remote
// bounce may carry a forged one), the category added, and for a wrapped bounce the new
// top-level Content-Type.
std::vector<HeaderEdit> rewrite_headers(const Transaction& tx, const std::string& header_name,
                                        const std::string& categories,
                                        const dsn::Rewrite& rewrite) {
    std::vector<HeaderEdit> edits;
    const auto remove_all = [&](std::string_view name) {
        int count = 0;
        for (const auto& h : tx.message.headers) {
            count += util::iequals(util::trim(h.name), name) ? 1 : 0;
        }
        // From the last to the first, so the indexes stay valid.
        for (int i = count; i >= 1; --i) {
            edits.push_back({HeaderEdit::Kind::Remove, std::string(name), "", i});
        }
        return count;
    };
    remove_all(header_name);
    if (rewrite.content_type) {
        remove_all("Content-Type");
        if (rewrite.drop_transfer_encoding) {
            remove_all("Content-Transfer-Encoding");
        }
        if (header_of(tx, "MIME-Version").empty()) {
            edits.push_back({HeaderEdit::Kind::Add, "MIME-Version", "1.0", 0});
        }
        edits.push_back({HeaderEdit::Kind::Add, "Content-Type", *rewrite.content_type, 0});
    }
    edits.push_back({HeaderEdit::Kind::Add, header_name, categories, 0});
    return edits;
}

class BounceRun final : public CheckRun {
  public:
    explicit BounceRun(const BounceCheck& check) : check_(check) {}

    Decision on(Stage stage, Transaction& tx) override {
        if (stage == Stage::MailFrom) {
            candidate_ = tx.message.mail_from.is_null();
            return Decision::none();
        }
        if (stage != Stage::EndOfMessage || !candidate_) {
            return Decision::none();
        }
        return at_end(tx);
    }

    void on_body(std::span<const std::byte> chunk, Transaction& /*tx*/) override {
        if (!candidate_ || oversize_) {
            return;
        }
        if (body_.size() + chunk.size() > check_.settings().max_bytes) {
            oversize_ = true;
            std::string().swap(body_);
            return;
        }
        body_.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    }

  private:
    Decision at_end(Transaction& tx) {
        const auto& settings = check_.settings();
        const std::string qid = tx.queue_id_or_noqueue();
        if (oversize_) {
            if (header_says_bounce(tx)) {
                tx.message.kind = MessageKind::DeliveryReport;
            }
            spdlog::warn(
                "{}: null-sender message of more than {} bytes (bounce.max_bytes): "
                "not parsed, left untouched",
                qid, settings.max_bytes);
            return Decision::none();
        }
        const std::string message = rebuild_message(tx, body_);
        auto report = dsn::parse_dsn(message);
        if (!report) {
            if (report.error().code != util::ErrorCode::NotFound || header_says_bounce(tx)) {
                if (header_says_bounce(tx)) {
                    tx.message.kind = MessageKind::DeliveryReport;
                }
                spdlog::warn("{}: bounce not understood, left untouched: {}", qid,
                             report.error().describe());
            }
            return Decision::none();
        }
        if (report->format != dsn::ReportFormat::DeliveryStatus &&
            report->format != dsn::ReportFormat::Heuristic) {
            return Decision::none();  // feedback reports and auto-replies are not bounces
        }
        tx.message.kind = MessageKind::DeliveryReport;
        std::vector<dsn::RecipientExplanation> failures;
        for (auto& e : dsn::explain(*report, check_.catalog())) {
            if (e.is_failure()) {
                failures.push_back(std::move(e));
            }
        }
        if (failures.empty()) {
            return Decision::none();  // a success notice ("delivered", "relayed")
        }
        const std::string sender = original_sender(tx, *report);
        const std::string login =
            settings.login_for_sender ? settings.login_for_sender(sender) : std::string();
        for (const auto& e : failures) {
            OutgoingFailure f = failure_of(e, *report, sender, login);
            if (settings.sink) {
                settings.sink->on_outgoing_failure(f);
            }
            tx.message.outgoing_failures.push_back(std::move(f));
        }
        Decision d;
        d.reason = fmt::format("bounce for <{}>: {} recipient(s), {}", sender, failures.size(),
                               categories_of(failures));
        if (!settings.rewrite) {
            return d;
        }
        if (!header_of(tx, settings.header_name).empty()) {
            spdlog::info("{}: bounce already carries {}: not explained again", qid,
                         settings.header_name);
            return d;
        }
        auto rewrite = dsn::rewrite_bounce(message, failures, report->original);
        if (!rewrite) {
            spdlog::warn("{}: bounce not rewritten, left untouched: {}", qid,
                         rewrite.error().describe());
            return d;
        }
        d.headers = rewrite_headers(tx, settings.header_name, categories_of(failures), *rewrite);
        d.body = std::move(rewrite->body);
        return d;
    }

    const BounceCheck& check_;
    bool candidate_ = false;
    bool oversize_ = false;
    std::string body_;
};

}  // namespace

BounceCheck::BounceCheck(std::shared_ptr<const explain::Catalog> catalog,
                         BounceCheckSettings settings)
    : catalog_(std::move(catalog)), settings_(std::move(settings)) {}

StageMask BounceCheck::stages() const {
    // Header: so the MTA sends the header fields that the report is rebuilt from.
    return {Stage::MailFrom, Stage::Header, Stage::Body, Stage::EndOfMessage};
}

std::unique_ptr<CheckRun> BounceCheck::start(const Transaction& /*tx*/) const {
    return std::make_unique<BounceRun>(*this);
}

std::string rebuild_message(const Transaction& tx, std::string_view body) {
    std::string out;
    out.reserve(body.size() + 64 * tx.message.headers.size() + 2);
    for (const auto& h : tx.message.headers) {
        out += h.name;
        out += ':';
        for (std::size_t i = 0; i < h.value.size(); ++i) {
            if (h.value[i] == '\n' && (i == 0 || h.value[i - 1] != '\r')) {
                out += '\r';  // folds sent with a bare LF
            }
            out += h.value[i];
        }
        out += "\r\n";
    }
    out += "\r\n";
    out.append(body);
    return out;
}

}  // namespace mailwarden::policy
