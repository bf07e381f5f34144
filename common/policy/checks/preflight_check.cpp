// preflight_check.cpp - the outbound DMARC preflight; see preflight_check.hpp.
#include "policy/checks/preflight_check.hpp"

#include <fmt/format.h>

#include "message/author.hpp"
#include "policy/header_lookup.hpp"
#include "smtp/reply.hpp"
#include "util/ascii.hpp"

namespace mailwarden::policy {

namespace {

class PreflightRun final : public CheckRun {
  public:
    explicit PreflightRun(const PreflightCheck& check) : check_(check) {}

    Decision on(Stage stage, Transaction& tx) override {
        if (stage != Stage::EndOfMessage || tx.message.direction != Direction::Outbound) {
            return Decision::none();
        }
        return check_.evaluate(tx);
    }

  private:
    const PreflightCheck& check_;
};

}  // namespace

std::vector<std::string> signature_domains(const MessageInfo& message) {
    std::vector<std::string> out;
    for (const auto value : header_values(message, "DKIM-Signature")) {
        for (const auto tag : util::split(value, ';')) {
            const auto eq = tag.find('=');
            if (eq == std::string_view::npos || util::trim(tag.substr(0, eq)) != "d") {
                continue;
            }
            std::string domain;
            for (const char c : tag.substr(eq + 1)) {
                if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {  // FWS anywhere
                    domain += util::to_lower(c);
                }
            }
            if (!domain.empty()) {
                out.push_back(std::move(domain));
            }
            break;
        }
    }
    return out;
}

PreflightCheck::PreflightCheck(std::shared_ptr<const auth::dmarc::Evaluator> dmarc,
                               std::shared_ptr<const auth::spf::Evaluator> spf,
                               auth::PreflightSettings site, PreflightCheckSettings settings)
    : dmarc_(std::move(dmarc)),
      spf_(std::move(spf)),
      preflight_(*dmarc_, *spf_, std::move(site)),
      settings_(std::move(settings)) {}

std::unique_ptr<CheckRun> PreflightCheck::start(const Transaction& /*tx*/) const {
    return std::make_unique<PreflightRun>(*this);
}

Decision PreflightCheck::evaluate(const Transaction& tx) const {
    const auto from_values = header_values(tx.message, "From");
    const auto domain = message::author_domain(from_values);
    if (!domain) {
        return Decision::none();  // nothing a receiver could align with
    }
    auth::PreflightInput input;
    input.author_domain = *domain;
    if (from_values.size() == 1) {
        input.author_address = message::author_address(from_values.front()).value_or("");
    }
    input.envelope_sender = tx.message.mail_from.to_string();
    input.signature_domains = signature_domains(tx.message);
    const auto outcome = preflight_.check(input);

    Decision d;
    d.reason = outcome.reason;
    if (outcome.verdict != auth::PreflightVerdict::WouldFail) {
        return d;
    }
    const bool reject = outcome.disposition == auth::dmarc::Policy::Reject;
    std::vector<std::string> lines = {
        outcome.sender_text + ".",
        outcome.unauthorised_ips.empty()
            ? fmt::format("Ask your mail administrator to sign mail for {} with DKIM.", *domain)
            : fmt::format("Ask your mail administrator to add this server to the SPF record of {} "
                          "or to sign its mail with DKIM.",
                          *domain)};
    switch (settings_.action) {
        case PreflightAction::Reject:
            d.action = Action::Reject;
            if (auto r = smtp::make_reply(550, "5.7.1", lines)) {
                d.reply = *r;
            }
            break;
        case PreflightAction::Header:
            d.headers.push_back(HeaderEdit{HeaderEdit::Kind::Add, settings_.header_name,
                                           fmt::format("would-fail (p={}) header.from={}",
                                                       reject ? "reject" : "quarantine", *domain),
                                           0});
            [[fallthrough]];
        case PreflightAction::Warn:
            d.action = Action::Reject;
            d.warn_only = true;  // logged and recorded as warn:reject; delivered
            break;
    }
    return d;
}

}  // namespace mailwarden::policy
