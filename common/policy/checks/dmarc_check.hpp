// dmarc_check.hpp - DMARC (RFC 9989) at end of message: the author domain from From:, the
// SPF and DKIM outcomes recorded by the checks before it, the policy that applies, and
// enforcement as configured (reject with 550 5.7.1 and an explanation naming the author
// domain and what failed, quarantine into the MTA's hold queue, tag with a header, or
// record only). Inbound mail by default. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "auth/dmarc/evaluator.hpp"
#include "policy/check.hpp"

namespace mailwarden::policy {

/// What the DMARC check does on failure, per requested disposition.
enum class DmarcEnforcement { None, Tag, Quarantine, Reject };

/// What the DMARC check does; the config section `dmarc:` maps onto it.
struct DmarcCheckSettings {
    bool check_outbound = false;
    DmarcEnforcement on_reject = DmarcEnforcement::Reject;
    DmarcEnforcement on_quarantine = DmarcEnforcement::Quarantine;
    Action on_temperror = Action::Continue;  ///< Continue or Tempfail
    bool warn_only = false;
    std::string tag_header = "X-Mailwarden-DMARC";
};

/// The DMARC check. The evaluator is shared with the SPF check and the preflight.
class DmarcCheck final : public Check {
  public:
    DmarcCheck(std::shared_ptr<const auth::dmarc::Evaluator> evaluator,
               DmarcCheckSettings settings);

    std::string_view name() const override { return "dmarc"; }
    StageMask stages() const override { return {Stage::Header, Stage::EndOfMessage}; }
    std::unique_ptr<CheckRun> start(const Transaction& tx) const override;

    /// Evaluates the message in `tx` (records tx.message.dmarc) and decides.
    Decision evaluate(Transaction& tx) const;

  private:
    Decision decide(const auth::dmarc::Outcome& outcome, const Transaction& tx) const;

    std::shared_ptr<const auth::dmarc::Evaluator> evaluator_;
    DmarcCheckSettings settings_;
};

/// The DMARC inputs of a transaction: the SPF outcome of the MAIL FROM (or HELO) identity
/// and every DKIM signature's result.
auth::dmarc::SpfInput dmarc_spf_input(const MessageInfo& message);
std::vector<auth::dmarc::DkimInput> dmarc_dkim_inputs(const MessageInfo& message);

}  // namespace mailwarden::policy
