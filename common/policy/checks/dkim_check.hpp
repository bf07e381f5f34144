// dkim_check.hpp - verifies every DKIM-Signature of a message while its body streams
// (RFC 6376, RFC 8301, RFC 8463) and records the per-signature results for DMARC and the
// Authentication-Results header. DKIM alone never refuses mail: a failed signature is
// what DMARC (or nothing) acts on. Inbound mail by default.
#pragma once

#include <memory>

#include "auth/dkim/verifier.hpp"
#include "dns/resolver.hpp"
#include "policy/check.hpp"
#include "util/clock.hpp"

namespace mailwarden::policy {

/// What the DKIM check does; the config section `dkim:` maps onto it.
struct DkimCheckSettings {
    bool check_outbound = false;  ///< also verify outbound (authenticated/trusted) mail
    auth::dkim::Options verifier;
};

/// The DKIM check. Holds the resolver and clock for its whole life; thread-safe.
class DkimCheck final : public Check {
  public:
    DkimCheck(std::shared_ptr<dns::Resolver> resolver, std::shared_ptr<const util::Clock> clock,
              DkimCheckSettings settings);

    std::string_view name() const override { return "dkim"; }
    StageMask stages() const override {
        return {Stage::Header, Stage::EndOfHeaders, Stage::Body, Stage::EndOfMessage};
    }
    std::unique_ptr<CheckRun> start(const Transaction& tx) const override;

    /// A one-line summary of the results for logs: "dkim=pass d=example.com s=s1; ...".
    static std::string summary(const std::vector<auth::dkim::SignatureResult>& results);

  private:
    friend class DkimRun;
    std::shared_ptr<dns::Resolver> resolver_;
    std::shared_ptr<const util::Clock> clock_;
    DkimCheckSettings settings_;
};

}  // namespace mailwarden::policy
