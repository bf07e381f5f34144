// dmarc_check.cpp - DMARC at end of message; see dmarc_check.hpp.
#include "policy/checks/dmarc_check.hpp"

#include <fmt/format.h>

#include "message/author.hpp"
#include "policy/header_lookup.hpp"
#include "smtp/reply.hpp"

namespace mailwarden::policy {

namespace {

namespace dmarc = auth::dmarc;

class DmarcRun final : public CheckRun {
  public:
    DmarcRun(const DmarcCheck& check, bool active) : check_(check), active_(active) {}

    Decision on(Stage stage, Transaction& tx) override {
        if (!active_ || stage != Stage::EndOfMessage) {
            return Decision::none();
        }
        return check_.evaluate(tx);
    }

  private:
    const DmarcCheck& check_;
    bool active_;
};

// What failed, in the words a sender understands.
std::string failure_detail(const dmarc::Outcome& o, const MessageInfo& message) {
    std::string spf_part;
    if (message.spf) {
        spf_part = fmt::format("SPF {} for {}", auth::spf::to_string(message.spf->result),
                               message.spf->domain.empty() ? "(no domain)" : message.spf->domain);
        if (message.spf->result == auth::spf::Result::Pass) {
            spf_part += fmt::format(", which is not {}", o.header_from);
        }
    } else {
        spf_part = "SPF was not checked";
    }
    std::string dkim_part;
    if (message.dkim.empty()) {
        dkim_part = "the message has no DKIM signature";
    } else {
        std::string passing;
        for (const auto& r : message.dkim) {
            if (r.result == auth::dkim::Result::Pass) {
                passing += (passing.empty() ? "" : ", ") + r.domain;
            }
        }
        dkim_part = passing.empty() ? std::string("no DKIM signature verified")
                                    : fmt::format("DKIM verified only for {}, which is not {}",
                                                  passing, o.header_from);
    }
    return fmt::format("{}; {}", spf_part, dkim_part);
}

smtp::Reply reply_for(int code, std::string_view enhanced, std::vector<std::string> lines) {
    if (auto r = smtp::make_reply(code, enhanced, lines)) {
        return *r;
    }
    return smtp::Reply{code, std::string(enhanced), {"Message refused by DMARC policy"}};
}

// The 550 reply for a failure under p=reject: names the author domain and what failed.
smtp::Reply reject_reply(const dmarc::Outcome& o, const std::string& detail) {
    return reply_for(550, "5.7.1",
                     {fmt::format("Message rejected: {} publishes a DMARC policy of reject, and "
                                  "this message does not pass it",
                                  o.header_from),
                      fmt::format("({}).", detail),
                      fmt::format("The sender should send through a server that {} authorises "
                                  "(SPF) or sign the message for {} (DKIM).",
                                  o.header_from, o.header_from)});
}

}  // namespace

DmarcCheck::DmarcCheck(std::shared_ptr<const dmarc::Evaluator> evaluator,
                       DmarcCheckSettings settings)
    : evaluator_(std::move(evaluator)), settings_(std::move(settings)) {}

std::unique_ptr<CheckRun> DmarcCheck::start(const Transaction& tx) const {
    const bool active = tx.message.direction == Direction::Inbound || settings_.check_outbound;
    return std::make_unique<DmarcRun>(*this, active);
}

dmarc::SpfInput dmarc_spf_input(const MessageInfo& message) {
    dmarc::SpfInput in;
    if (message.spf) {
        in.result = message.spf->result;
        in.domain = message.spf->domain;
    }
    return in;
}

std::vector<dmarc::DkimInput> dmarc_dkim_inputs(const MessageInfo& message) {
    std::vector<dmarc::DkimInput> in;
    in.reserve(message.dkim.size());
    for (const auto& r : message.dkim) {
        in.push_back(dmarc::DkimInput{r.result, r.domain, r.selector});
    }
    return in;
}

Decision DmarcCheck::evaluate(Transaction& tx) const {
    const auto from_values = header_values(tx.message, "From");
    dmarc::Outcome outcome;
    if (auto domains = message::author_domains(from_values); domains) {
        const auto dkim = dmarc_dkim_inputs(tx.message);
        outcome = evaluator_->evaluate_authors(*domains, dmarc_spf_input(tx.message), dkim);
    } else {
        outcome = dmarc::unusable_author(domains.error().message);
    }
    tx.message.dmarc = outcome;
    return decide(outcome, tx);
}

Decision DmarcCheck::decide(const dmarc::Outcome& o, const Transaction& tx) const {
    Decision d;
    d.reason = fmt::format("DMARC {} for {}: {}", dmarc::to_string(o.result),
                           o.header_from.empty() ? "(no author domain)" : o.header_from, o.reason);
    if (o.result == dmarc::Result::TempError && settings_.on_temperror == Action::Tempfail) {
        d.action = Action::Tempfail;
        d.reply = reply_for(451, "4.7.5",
                            {fmt::format("The DMARC policy of {} could not be looked up because "
                                         "of a temporary DNS error; please try again later",
                                         o.header_from)});
    }
    if (o.result == dmarc::Result::Fail) {
        DmarcEnforcement enforcement = DmarcEnforcement::None;
        if (o.disposition == dmarc::Policy::Reject) {
            enforcement = settings_.on_reject;
        } else if (o.disposition == dmarc::Policy::Quarantine) {
            enforcement = settings_.on_quarantine;
        }
        const std::string detail = failure_detail(o, tx.message);
        const bool reject = o.disposition == dmarc::Policy::Reject;
        switch (enforcement) {
            case DmarcEnforcement::Reject:
            case DmarcEnforcement::None:
                // None enforces nothing but records what the policy asked for, as a warning.
                d.action = reject ? Action::Reject : Action::Quarantine;
                d.warn_only = enforcement == DmarcEnforcement::None;
                if (reject) {
                    d.reply = reject_reply(o, detail);
                }
                if (enforcement == DmarcEnforcement::None && o.disposition == dmarc::Policy::None) {
                    d.action = Action::Continue;  // p=none (or t=y lowered it): monitoring only
                    d.warn_only = false;
                }
                break;
            case DmarcEnforcement::Quarantine:
                d.action = Action::Quarantine;
                break;
            case DmarcEnforcement::Tag:
                d.action = Action::Quarantine;  // recorded as warn:quarantine, delivered
                d.warn_only = true;
                d.headers.push_back(
                    HeaderEdit{HeaderEdit::Kind::Add, settings_.tag_header,
                               fmt::format("fail (p={}) header.from={}", dmarc::to_string(o.policy),
                                           o.header_from),
                               0});
                break;
        }
        d.reason += fmt::format("; {}", detail);
    }
    if (settings_.warn_only && is_refusal(d.action)) {
        d.warn_only = true;
    }
    return d;
}

}  // namespace mailwarden::policy
