#include "milter/session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "milter/apply_verdict.hpp"
#include "milter/macros.hpp"
#include "policy/report.hpp"
#include "util/ascii.hpp"
#include "util/version.hpp"

namespace mailwarden::milter {

using policy::Stage;

Session::Session(const SessionServices& services) : services_(services) {
    runtime_ = services_.runtime();
}

Session::~Session() {
    end_message();
}

policy::StageMask Session::wanted_stages() const {
    return runtime_->pipeline->stages();
}

void Session::on_connect(MtaContext& mta, std::string client_name,
                         std::optional<util::IpAddress> client_ip, int client_port) {
    tx_.connection.client_name = std::move(client_name);
    tx_.connection.client_ip = client_ip ? std::optional(client_ip->unmapped()) : std::nullopt;
    tx_.connection.client_port = client_port;
    tx_.connection.daemon_name = mta.macro(macros::kDaemonName).value_or("");
    tx_.connection.mta_hostname = mta.macro(macros::kMtaHostname).value_or("");
}

void Session::on_helo(MtaContext& /*mta*/, std::string helo) {
    tx_.connection.helo = std::move(helo);
}

void Session::begin_message() {
    end_message();
    runtime_ = services_.runtime();  // a reload applies from the next message on
    tx_.reset_message();
    deferred_refusal_.reset();
    in_message_ = true;
    if (services_.messages_in_flight != nullptr) {
        services_.messages_in_flight->fetch_add(1);
    }
}

void Session::end_message() {
    if (in_message_ && services_.messages_in_flight != nullptr) {
        services_.messages_in_flight->fetch_sub(1);
    }
    in_message_ = false;
    run_.reset();
}

void Session::refresh_queue_id(MtaContext& mta) {
    if (auto qid = mta.macro(macros::kQueueId); qid && !qid->empty()) {
        tx_.message.queue_id = *qid;
    }
}

bool Session::non_smtp() const {
    const auto& raw = tx_.message.raw_mail_from;
    return raw.empty() || raw.front() != '<';
}

Outcome Session::on_mail(MtaContext& mta, std::span<const std::string> args) {
    if (services_.draining != nullptr && services_.draining->load()) {
        // Stopping: what the MTA would do with the milter gone (milter_default_action =
        // tempfail), said in plain words; the client retries in a moment.
        spdlog::info("{}: new message tempfailed: mailwarden is stopping", queue_id());
        const smtp::Reply reply{451,
                                "4.3.2",
                                {"The mail filter is restarting; please try "
                                 "again in a moment"}};
        if (auto r = mta.set_reply(reply); !r) {
            spdlog::warn("{}: set reply failed: {}", queue_id(), r.error().describe());
        }
        return Outcome::Tempfail;
    }
    begin_message();
    refresh_queue_id(mta);
    auto& msg = tx_.message;
    msg.raw_mail_from = args.empty() ? std::string() : args.front();
    if (args.size() > 1) {
        msg.mail_args.assign(args.begin() + 1, args.end());
    }
    if (auto address = smtp::parse_envelope_address(msg.raw_mail_from)) {
        msg.mail_from = *address;
    } else {
        spdlog::warn("{}: unparsable MAIL FROM address: {}", queue_id(), address.error().message);
    }
    msg.auth_login = mta.macro(macros::kAuthLogin).value_or("");
    msg.auth_type = mta.macro(macros::kAuthType).value_or("");
    const auto& config = *runtime_->config;
    bool trusted = false;
    if (tx_.connection.client_ip) {
        for (const auto& net : config.trusted_networks) {
            trusted = trusted || net.contains(*tx_.connection.client_ip);
        }
    }
    msg.direction = (!msg.auth_login.empty() || trusted) ? policy::Direction::Outbound
                                                         : policy::Direction::Inbound;
    run_ = runtime_->pipeline->start(tx_);
    return answer_early(mta, Stage::MailFrom, run_->run(Stage::MailFrom, tx_));
}

Outcome Session::on_rcpt(MtaContext& mta, std::span<const std::string> args) {
    if (!run_) {
        return Outcome::Continue;  // no MAIL seen (a broken MTA): nothing to decide on
    }
    refresh_queue_id(mta);
    tx_.current_rcpt_raw = args.empty() ? std::string() : args.front();
    auto address = smtp::parse_envelope_address(tx_.current_rcpt_raw);
    tx_.current_rcpt = address ? *address : smtp::Address{};
    const Outcome outcome = answer_early(mta, Stage::Rcpt, run_->run(Stage::Rcpt, tx_));
    if (outcome == Outcome::Continue) {
        tx_.message.recipients.push_back(tx_.current_rcpt);
    }
    return outcome;
}

Outcome Session::answer_early(MtaContext& mta, Stage stage, policy::Verdict verdict) {
    if (verdict.refuses() && non_smtp()) {
        // XXX: Postfix cannot refuse MAIL or RCPT of sendmail(1)/pickup mail and DSNs: the
        // mail stays in maildrop or the bounce is retried forever. Such refusals wait for
        // end of message, where a refused non-DSN message is bounced to its sender.
        if (!deferred_refusal_) {
            deferred_refusal_ = verdict;
        }
        report(stage, verdict);
        return Outcome::Continue;
    }
    report(stage, verdict);
    return apply_verdict(mta, verdict, false, queue_id());
}

void Session::on_header(MtaContext& /*mta*/, std::string name, std::string value) {
    constexpr std::size_t kMaxHeaders = 1000;  // bounded memory for hostile messages
    if (tx_.message.headers.size() < kMaxHeaders) {
        tx_.message.headers.push_back({std::move(name), std::move(value)});
    } else {
        tx_.message.headers_truncated = true;
    }
    if (run_) {
        run_->run(Stage::Header, tx_);
    }
}

void Session::on_end_of_headers(MtaContext& mta) {
    refresh_queue_id(mta);
    if (run_) {
        run_->run(Stage::EndOfHeaders, tx_);
    }
}

void Session::on_body(MtaContext& /*mta*/, std::span<const std::byte> chunk) {
    tx_.message.body_bytes += chunk.size();
    if (run_) {
        run_->body(chunk, tx_);
    }
}

Outcome Session::on_end_of_message(MtaContext& mta) {
    refresh_queue_id(mta);
    if (!run_) {
        end_message();
        return Outcome::Accept;
    }
    policy::Verdict verdict = run_->run(Stage::EndOfMessage, tx_);
    const bool delivery_report = tx_.message.kind == policy::MessageKind::DeliveryReport;
    if (deferred_refusal_ && delivery_report) {
        spdlog::warn(
            "{}: not refusing a delivery report ({} by {} before end of message); "
            "accepted",
            queue_id(), policy::to_string(deferred_refusal_->action),
            deferred_refusal_->deciding_check);
    }
    if (deferred_refusal_ && !verdict.refuses() && !delivery_report) {
        verdict.action = deferred_refusal_->action;
        verdict.reply = deferred_refusal_->reply;
        verdict.deciding_check = deferred_refusal_->deciding_check;
    }
    if (verdict.refuses() && tx_.message.mail_from.is_null() && non_smtp()) {
        // A refused DSN is never created and its original is retried forever (Postfix
        // "bounce failed"): let it through and say so.
        spdlog::warn("{}: not refusing a bounce generated by the MTA ({} by {}); accepted",
                     queue_id(), policy::to_string(verdict.action), verdict.deciding_check);
        verdict.action = policy::Action::Accept;
        verdict.reply.reset();
    }
    const auto& config = *runtime_->config;
    if (config.headers.add_status && !verdict.refuses() &&
        verdict.action != policy::Action::Discard) {
        verdict.headers.push_back(policy::HeaderEdit{
            policy::HeaderEdit::Kind::Add, config.headers.status_name,
            fmt::format("{} (mailwarden {}); {}; {}", runtime_->hostname, kVersion,
                        policy::to_string(tx_.message.direction),
                        verdict.action == policy::Action::Quarantine ? "held" : "accepted"),
            0});
    }
    report(Stage::EndOfMessage, verdict);
    record_outgoing_failures();
    const Outcome outcome = apply_verdict(mta, verdict, true, queue_id());
    end_message();
    return outcome;
}

void Session::on_abort() {
    end_message();
}

void Session::report(Stage stage, const policy::Verdict& verdict) {
    for (const auto& d : verdict.decisions) {
        if (!policy::reported_at(d, stage)) {
            continue;
        }
        spdlog::info("{}: {}", queue_id(), policy::decision_log_line(tx_, stage, d, verdict));
    }
    auto events =
        policy::events_for(tx_, stage, verdict, services_.clock->now(), runtime_->hostname);
    if (!events.empty() && services_.record) {
        services_.record(std::move(events));
    }
}

void Session::record_outgoing_failures() {
    for (const auto& f : tx_.message.outgoing_failures) {
        spdlog::info(
            "{}: bounce: sender=<{}> login={} rcpt=<{}> action={} status={} "
            "category={} remote={}",
            queue_id(), f.original_sender, f.login.empty() ? "-" : f.login, f.recipient, f.action,
            f.enhanced_code.empty() ? "-" : f.enhanced_code, f.category,
            f.remote_host.empty() ? "-" : f.remote_host);
    }
    auto events = policy::outgoing_failure_events(tx_, services_.clock->now(), runtime_->hostname);
    if (!events.empty() && services_.record) {
        services_.record(std::move(events));
    }
}

}  // namespace mailwarden::milter
