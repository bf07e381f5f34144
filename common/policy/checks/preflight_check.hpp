// preflight_check.hpp - the outbound DMARC preflight at end of message: for mail from
// authenticated or trusted senders, predicts whether the receiver's DMARC check will fail
// (auth::Preflight) and then warns (log and event), adds a header, or rejects with a reply
// that says in plain words why, per config. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "auth/preflight.hpp"
#include "dns/resolver.hpp"
#include "policy/check.hpp"

namespace mailwarden::policy {

/// What the preflight does when a message would fail DMARC at its receiver.
enum class PreflightAction { Warn, Header, Reject };

/// Settings; config `preflight:` plus `outbound_ips` and `dkim_signing_domains`.
struct PreflightCheckSettings {
    PreflightAction action = PreflightAction::Warn;
    std::string header_name = "X-Mailwarden-Preflight";
};

/// The preflight check; owns the SPF evaluator it predicts with.
class PreflightCheck final : public Check {
  public:
    PreflightCheck(std::shared_ptr<const auth::dmarc::Evaluator> dmarc,
                   std::shared_ptr<const auth::spf::Evaluator> spf, auth::PreflightSettings site,
                   PreflightCheckSettings settings);

    std::string_view name() const override { return "preflight"; }
    StageMask stages() const override { return {Stage::Header, Stage::EndOfMessage}; }
    std::unique_ptr<CheckRun> start(const Transaction& tx) const override;

    /// The decision for the outbound message in `tx`.
    Decision evaluate(const Transaction& tx) const;

  private:
    std::shared_ptr<const auth::dmarc::Evaluator> dmarc_;
    std::shared_ptr<const auth::spf::Evaluator> spf_;
    auth::Preflight preflight_;
    PreflightCheckSettings settings_;
};

/// The d= values of the DKIM-Signature fields of a message (not verified), lower case.
std::vector<std::string> signature_domains(const MessageInfo& message);

}  // namespace mailwarden::policy
