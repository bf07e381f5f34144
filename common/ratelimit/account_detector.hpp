// account_detector.hpp - scores a login's activity in the current window (and UTC day)
// against its own baseline, to spot a compromised account (DESIGN.md "throttles senders").
//
// Signals: volume (messages) as a multiple of the usual, distinct client IPs and /24-/64
// networks of the day, new recipient domains, the share of refused recipients, the share
// of hard bounces coming back, and From: domains the login has never used. Each signal
// that fires adds its points; at hold_score or more the login should be held. A "usual"
// figure is the baseline average, but never below the signal's floor, so a login with
// no history is judged against modest defaults rather than zero. Pure; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/account_store.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace mailwarden::ratelimit {

/// When one signal fires. A multiple signal fires when value >= min and value >= multiple
/// x max(baseline average, floor); a share signal when its count >= min and count >=
/// percent % of the total; a count signal when value >= min. points = 0 turns it off.
struct SignalThreshold {
    std::uint64_t min = 0;
    std::uint64_t multiple = 0;
    std::uint64_t floor = 0;
    std::uint64_t percent = 0;
    int points = 0;
};

/// Thresholds of the detector (config `accounts:`; defaults as documented in
/// conf/mailwarden.yaml).
struct DetectorSettings {
    int hold_score = 4;
    /// Messages in the window.
    SignalThreshold volume{50, 10, 5, 0, 2};
    /// Distinct client IPs of the day.
    SignalThreshold client_ips{15, 5, 3, 0, 1};
    /// Distinct client /24 (IPv4) or /64 (IPv6) networks of the day.
    SignalThreshold client_networks{10, 5, 2, 0, 2};
    /// Recipient domains the login never sent to before, in the window.
    SignalThreshold new_domains{50, 10, 5, 0, 2};
    /// Recipients refused at RCPT, as a share of all recipients tried in the window.
    SignalThreshold refused_recipients{20, 0, 0, 30, 1};
    /// Hard bounces, as a share of accepted recipients in the window.
    SignalThreshold bounces{10, 0, 0, 20, 1};
    /// From: domains never used before, in the window (only for a login with history:
    /// at least `min_history_messages` messages seen).
    SignalThreshold new_from_domains{3, 0, 0, 0, 1};
    std::uint64_t min_history_messages = 20;
};

/// One signal that fired, with its figures.
struct Signal {
    std::string name;  ///< "volume", "client_ips", ...
    double value = 0;  ///< this window's (or day's) figure; a share in percent
    double usual = 0;  ///< what it is compared with (baseline average or floor; the share)
    int points = 0;
    std::string text;  ///< "120 messages this hour, 24x the usual 5.0"
};

/// The detector's view of one account.
struct Assessment {
    int score = 0;
    std::vector<Signal> signals;  ///< those that fired, in a fixed order
    bool hold = false;            ///< score >= hold_score

    /// "120 messages this hour, 24x the usual 5.0; 30 client networks today ..." or "".
    std::string reason() const;
    /// JSON object: score, hold_score, and per signal value, usual, points.
    std::string figures(int hold_score) const;
};

/// InvalidInput naming the field when a threshold is out of range (hold_score 1..100,
/// points 0..100, a multiple signal with multiple 0 but points > 0, percent over 100).
util::Result<void> validate(const DetectorSettings& settings);

/// Scores `account` (its window, day and baseline) with `settings`.
Assessment assess(const store::AccountSnapshot& account, const DetectorSettings& settings,
                  std::chrono::milliseconds window);

/// Feeds hard bounces reported for mail from `envelope_sender` into the signal of the
/// login that last sent authenticated mail as that sender (AccountStore::login_of), for
/// the bounce check: the login fed, or nullopt when the sender is not known to be
/// anyone's (nothing is written then). Store errors are returned.
util::Result<std::optional<std::string>> record_outgoing_failures(
    store::AccountStore& accounts, std::string_view envelope_sender, std::uint64_t hard_bounces,
    const store::AccountTracking& tracking, util::SystemTime now);

}  // namespace mailwarden::ratelimit
