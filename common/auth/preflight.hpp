// preflight.hpp - predicts the DMARC verdict a receiver will reach on an outbound message,
// before it leaves: is one of this site's outbound addresses authorised by the envelope
// domain's SPF, is the envelope domain aligned with From:, is there an aligned DKIM
// signature (present on the message, or added later by the site's signer), and does the
// From: domain publish a policy that a receiver enforces. Thread-safe; never throws.
#pragma once

#include <string>
#include <vector>

#include "auth/dmarc/evaluator.hpp"
#include "auth/spf/evaluator.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::auth {

/// Site facts the preflight needs (config `outbound_ips`, `dkim_signing_domains`).
struct PreflightSettings {
    std::vector<util::Cidr> outbound_ips;           ///< where this site's mail leaves from
    std::vector<std::string> dkim_signing_domains;  ///< lower case, no trailing dot
};

/// One outbound message as the preflight sees it.
struct PreflightInput {
    std::string author_domain;                   ///< From: domain (message::author_domain)
    std::string author_address;                  ///< From: address, for the sender's text
    std::string envelope_sender;                 ///< MAIL FROM "local@domain" ("" = null)
    std::vector<std::string> signature_domains;  ///< d= of DKIM-Signature fields present
};

/// What a receiver's DMARC check is predicted to say.
enum class PreflightVerdict {
    Pass,       ///< aligned SPF or DKIM will pass
    WouldFail,  ///< no aligned pass, and the domain asks receivers to quarantine or reject
    Weak,       ///< no aligned pass, but the policy is p=none (or in testing): delivered
    NoPolicy,   ///< the From: domain publishes no DMARC policy
    Unknown,    ///< DNS failed, or the site's outbound addresses are not configured
};

/// "pass", "would-fail", "weak", "no-policy", "unknown".
std::string_view to_string(PreflightVerdict verdict) noexcept;

/// The prediction with its reasons.
struct PreflightOutcome {
    PreflightVerdict verdict = PreflightVerdict::Unknown;
    dmarc::Policy disposition = dmarc::Policy::None;  ///< what the receiver would do
    std::string policy_domain;                        ///< where the DMARC record is
    bool spf_domain_aligned = false;  ///< envelope domain aligned with the author domain
    bool spf_authorised = false;      ///< every outbound IP passes the envelope domain's SPF
    std::vector<std::string> unauthorised_ips;  ///< outbound IPs SPF does not pass
    bool dkim_aligned = false;                  ///< an aligned signature is present or will be
    std::string dkim_domain;                    ///< that signature's d= (or the signer's)
    std::string reason;                         ///< for the admin: every fact above in one line
    std::string sender_text;  ///< for the sender: what will happen and why, in plain words
};

/// The preflight over the DMARC and SPF evaluators (both must outlive it).
class Preflight {
  public:
    Preflight(const dmarc::Evaluator& dmarc, const spf::Evaluator& spf, PreflightSettings settings);

    /// Predicts the receiver's verdict on `input`.
    PreflightOutcome check(const PreflightInput& input) const;

  private:
    bool aligned(std::string_view a, std::string_view b, bool strict) const;

    const dmarc::Evaluator* dmarc_;
    const spf::Evaluator* spf_;
    PreflightSettings settings_;
};

}  // namespace mailwarden::auth
