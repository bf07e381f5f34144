// spf_check.hpp - the SPF check at MAIL FROM (RFC 7208), inbound mail by default.
//
// Evaluates the MAIL FROM identity (the HELO identity for the null sender, and first for
// every message when check_helo is set), caches results per (client IP, identity) for a
// configured time, adds a Received-SPF header (RFC 7208 §9.1) and maps each result to a
// configured action with a reply that says in plain words what failed (RFC 7372 codes
// X.7.23 / X.7.24) plus the domain's exp= text. A fail is not rejected here when the
// domain publishes an enforcing DMARC policy: DMARC decides at end of message. Thread-safe
// (shared by all connections); each evaluation is bounded by the SPF lookup budget.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/dmarc/evaluator.hpp"
#include "auth/spf/evaluator.hpp"
#include "auth/spf/record_cache.hpp"
#include "dns/resolver.hpp"
#include "policy/check.hpp"
#include "util/clock.hpp"

namespace mailwarden::policy {

/// What the SPF check does; the config section `spf:` maps onto it field by field.
struct SpfCheckSettings {
    /// Check outbound (authenticated or trusted) mail too; by default only inbound.
    bool check_outbound = false;
    /// Also check the HELO identity for every message (RFC 7208 §2.3); a HELO fail or
    /// pass decides without the MAIL FROM check. The null sender always uses HELO.
    bool check_helo = false;
    /// How long a result is reused for the same client IP and identity; 0 disables it.
    std::chrono::seconds result_cache_ttl{300};
    /// Bound on cached results (and, separately, on cached records).
    std::size_t result_cache_max_entries = 10'000;
    /// What to do per result. Results not listed mean Continue.
    std::map<auth::spf::Result, Action> actions = {
        {auth::spf::Result::Fail, Action::Reject},
        {auth::spf::Result::TempError, Action::Tempfail},
    };
    /// A fail is not refused when the sender domain publishes DMARC p=quarantine or
    /// p=reject: DMARC (which also weighs DKIM) decides at end of message. Needs the DMARC
    /// evaluator (the DMARC check must be on).
    bool defer_fail_to_dmarc = true;
    /// Record decisions but never refuse (mode: warn).
    bool warn_only = false;
    /// Add a Received-SPF header to accepted mail.
    bool add_received_spf_header = true;
    /// The name this host gives itself in headers; empty = the MTA's hostname (macro j).
    std::string authserv_id;
    /// RFC 7208 §4.6.4 bound on one evaluation, DNS waits included.
    std::chrono::milliseconds time_limit = auth::spf::kDefaultTimeLimit;
};

/// The SPF check. Holds the resolver and clock for its whole life.
class SpfCheck final : public Check {
  public:
    /// `dmarc` is the DMARC check's evaluator; without it a fail is never deferred.
    SpfCheck(std::shared_ptr<dns::Resolver> resolver, std::shared_ptr<const util::Clock> clock,
             SpfCheckSettings settings,
             std::shared_ptr<const auth::dmarc::Evaluator> dmarc = nullptr);

    std::string_view name() const override { return "spf"; }
    StageMask stages() const override { return {Stage::MailFrom}; }
    std::unique_ptr<CheckRun> start(const Transaction& tx) const override;

    /// The outcome for the transaction's client and sender (HELO identity for the null
    /// sender), from the result cache when fresh. nullopt when the check does not apply:
    /// no client IP (local submission) or outbound mail with check_outbound off.
    std::optional<auth::spf::Outcome> evaluate(const Transaction& tx) const;
    /// The decision for an outcome: action, reply, reason (with the short trace) and header.
    Decision decide(const auth::spf::Outcome& outcome, const Transaction& tx) const;

    const SpfCheckSettings& settings() const noexcept { return settings_; }

  private:
    /// What the sender domain's DMARC record says about enforcement.
    enum class DmarcStance {
        None,       ///< no DMARC record, or p=none
        Enforcing,  ///< p=quarantine or p=reject (sp= for a subdomain)
        Unknown,    ///< the lookup failed temporarily
    };
    DmarcStance dmarc_stance(std::string_view domain) const;
    auth::spf::Outcome cached_check(const util::IpAddress& ip, bool helo_identity,
                                    std::string_view identity, std::string_view helo) const;

    struct CachedResult {
        auth::spf::Outcome outcome;
        util::SystemTime expires;
    };

    std::shared_ptr<dns::Resolver> resolver_;
    std::shared_ptr<const util::Clock> clock_;
    SpfCheckSettings settings_;
    std::shared_ptr<const auth::dmarc::Evaluator> dmarc_;
    std::unique_ptr<auth::spf::RecordCache> records_;
    std::unique_ptr<auth::spf::Evaluator> evaluator_;
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, CachedResult> results_;
};

}  // namespace mailwarden::policy
