// account_check.hpp - the compromised-account check: for authenticated senders, records
// each message's activity at end of message (one store call: one EVALSHA with Redis) and
// holds the login when the detector's score reaches the threshold; a held login's mail is
// quarantined (the MTA's hold queue: nothing lost, nothing delivered) or tempfailed, per
// config, until an admin releases it (`mailwardenctl release`).
//
// The reason (and so the event) says who held the login, why, and the figures. Refused
// recipients are counted as the recipients seen at RCPT that did not make it into the
// message. A store error is logged and the mail passes (fail open, as rate limits do).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "policy/check.hpp"
#include "ratelimit/account_detector.hpp"
#include "store/account_store.hpp"
#include "util/clock.hpp"

namespace mailwarden::policy {

/// What happens to the mail of a held login.
enum class HeldAction {
    Quarantine,  ///< accepted into the MTA's hold queue
    Tempfail,    ///< 451 4.7.1: the client keeps it and retries
};

/// Settings of the account check (config `accounts:`).
struct AccountCheckSettings {
    store::AccountTracking tracking;
    ratelimit::DetectorSettings detector;
    HeldAction action = HeldAction::Quarantine;
    /// After a release the detector does not hold the login again for this long.
    std::chrono::milliseconds release_grace{3'600'000};
    std::vector<std::string> exempt_logins;  ///< lower case; never tracked or held
};

/// The settings of `accounts:`; InvalidInput (naming the field) when the detector
/// thresholds or the tracking are out of range.
util::Result<AccountCheckSettings> account_check_settings(const config::AccountsConfig& config);

class AccountCheck final : public Check {
  public:
    /// `settings` must have passed validate_tracking and ratelimit::validate.
    AccountCheck(std::shared_ptr<store::AccountStore> accounts, AccountCheckSettings settings,
                 std::shared_ptr<const util::Clock> clock);

    std::string_view name() const override { return "account"; }
    StageMask stages() const override { return {Stage::Rcpt, Stage::EndOfMessage}; }
    std::unique_ptr<CheckRun> start(const Transaction& tx) const override;

    /// The decision at end of message for `tx`, given how many recipients were tried at
    /// RCPT (accepted or not). Records the activity; may hold the login.
    Decision decide(const Transaction& tx, std::uint64_t recipients_tried) const;

    /// The activity of `tx` as the store records it (tags of domains, IP and network).
    static store::AccountActivity activity_of(const Transaction& tx,
                                              std::uint64_t recipients_tried);

  private:
    Decision held_decision(const std::string& login, const store::HoldInfo& hold,
                           bool just_held) const;

    std::shared_ptr<store::AccountStore> accounts_;
    AccountCheckSettings settings_;
    std::shared_ptr<const util::Clock> clock_;
};

}  // namespace mailwarden::policy
