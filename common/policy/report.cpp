#include "policy/report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mailwarden::policy {

namespace {

// The reply a decision stands for: its own, or the verdict's when it decided.
std::optional<smtp::Reply> reply_of(const Decision& d, const Verdict& v) {
    if (d.reply) {
        return d.reply;
    }
    if (!d.warn_only && d.action == v.action && v.reply) {
        return v.reply;
    }
    if (is_refusal(d.action)) {
        return default_reply(d.action);
    }
    return std::nullopt;
}

std::string action_word(const Decision& d) {
    return d.warn_only ? fmt::format("warn:{}", to_string(d.action))
                       : std::string(to_string(d.action));
}

std::vector<std::string> recipients_for(const Transaction& tx, Stage stage) {
    std::vector<std::string> out;
    if (stage == Stage::Rcpt) {
        out.push_back(tx.current_rcpt.to_string());
        return out;
    }
    for (const auto& r : tx.message.recipients) {
        out.push_back(r.to_string());
    }
    return out;
}

}  // namespace

bool reported_at(const Decision& d, Stage stage) {
    if (d.warn_only || is_refusal(d.action)) {
        return true;
    }
    return stage == Stage::EndOfMessage &&
           (d.action == Action::Quarantine || d.action == Action::Discard);
}

std::string decision_log_line(const Transaction& tx, Stage stage, const Decision& d,
                              const Verdict& verdict) {
    const auto reply = reply_of(d, verdict);
    std::string to;
    for (const auto& r : recipients_for(tx, stage)) {
        to += fmt::format(" to=<{}>", r);
    }
    return fmt::format(
        "qid={} stage={} check={} action={} code={} dsn={} client={}[{}] from=<{}>{} "
        "login={} direction={} reason=\"{}\"",
        tx.queue_id_or_noqueue(), to_string(stage), d.check, action_word(d),
        reply ? reply->code : 0, reply && !reply->enhanced.empty() ? reply->enhanced : "-",
        tx.connection.client_name.empty() ? "unknown" : tx.connection.client_name,
        tx.connection.client_ip ? tx.connection.client_ip->to_string() : "local",
        tx.message.mail_from.to_string(), to,
        tx.message.auth_login.empty() ? "-" : tx.message.auth_login,
        to_string(tx.message.direction), d.reason);
}

std::vector<store::Event> events_for(const Transaction& tx, Stage stage, const Verdict& verdict,
                                     util::SystemTime now, const std::string& node) {
    std::vector<store::Event> events;
    for (const auto& d : verdict.decisions) {
        if (!reported_at(d, stage)) {
            continue;
        }
        store::Event e;
        e.time = now;
        e.kind = "decision";
        e.queue_id = tx.queue_id_or_noqueue();
        e.direction = std::string(to_string(tx.message.direction));
        e.stage = std::string(to_string(stage));
        e.check = d.check;
        e.action = action_word(d);
        if (const auto reply = reply_of(d, verdict)) {
            e.reply_code = reply->code;
            e.enhanced_code = reply->enhanced;
            e.reply_text = fmt::format("{}", fmt::join(reply->lines, " / "));
        }
        e.reason = d.reason;
        e.sender = tx.message.mail_from.to_string();
        e.login = tx.message.auth_login;
        e.client_address = tx.connection.client_ip ? tx.connection.client_ip->to_string() : "";
        e.client_name = tx.connection.client_name;
        e.helo = tx.connection.helo;
        e.recipients = recipients_for(tx, stage);
        e.node = node;
        events.push_back(std::move(e));
    }
    return events;
}

std::vector<store::Event> outgoing_failure_events(const Transaction& tx, util::SystemTime now,
                                                  const std::string& node) {
    std::vector<store::Event> events;
    for (const OutgoingFailure& f : tx.message.outgoing_failures) {
        store::Event e;
        e.time = now;
        e.kind = "outgoing_failure";
        e.queue_id = f.original_queue_id.empty() ? tx.queue_id_or_noqueue() : f.original_queue_id;
        e.report_queue_id = tx.queue_id_or_noqueue();
        e.direction = std::string(to_string(Direction::Outbound));
        e.stage = "bounce";
        e.check = "bounce";
        e.action = f.action;
        e.reply_code = f.reply_code;
        e.enhanced_code = f.enhanced_code;
        e.reply_text = f.diagnostic;
        e.reason = f.summary;
        e.category = f.category;
        e.sender = f.original_sender;
        e.login = f.login;
        e.remote_host = f.remote_host;
        e.recipients = {f.recipient};
        e.message_id = f.original_message_id;
        e.node = node;
        events.push_back(std::move(e));
    }
    return events;
}

}  // namespace mailwarden::policy
