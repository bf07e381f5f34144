// account_store.hpp - the interface of per-login account state for the compromised-account
// detector (DESIGN.md "Redis data model": `mw:acct:{login}` hash, `mw:held` set).
//
// Per login the store keeps the activity of the current window (messages, recipients,
// refused recipients, hard bounces, distinct and new recipient domains, new From: domains)
// and of the current UTC day (distinct client IPs and /24 or /64 networks), the decaying
// averages of completed active windows and days (the baseline), the sets of recipient and
// From: domains the login has used (as short hashes, capped), and its state: ok, or held
// with who held it, why, when, and the figures at that moment. Implementations:
// MemoryAccountStore (one node), RedisAccountStore (scripts/account_update.lua: one
// EVALSHA per message). Both fold with store/account_math.hpp and give the same answers.
// The caller supplies `now`; every method is thread-safe and bounded in time and memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.hpp"
#include "util/error.hpp"

namespace mailwarden::store {

/// Longest login tracked (bytes); longer ones are InvalidInput.
inline constexpr std::size_t kMaxLoginBytes = 1024;
/// Most distinct recipient domains one update carries (a message to 10,000 recipients
/// passes the first ones; the rest count as new domains without being remembered).
inline constexpr std::size_t kMaxDomainsPerUpdate = 1000;
/// Most distinct From: domains one update carries.
inline constexpr std::size_t kMaxFromDomainsPerUpdate = 16;
/// Longest hold reason kept (bytes); longer text is cut.
inline constexpr std::size_t kMaxHoldReasonBytes = 2048;
/// Longest figures document kept with a hold (bytes); longer is cut.
inline constexpr std::size_t kMaxHoldFiguresBytes = 8192;

/// How accounts are tracked; the same for every call of one configuration.
struct AccountTracking {
    std::chrono::milliseconds window{3'600'000};            ///< activity is scored per window
    std::chrono::milliseconds half_life{7 * 86'400'000};    ///< of the baseline averages
    std::chrono::milliseconds idle_ttl{30LL * 86'400'000};  ///< an ok account unused this long goes
    std::chrono::milliseconds held_ttl{30LL *
                                       86'400'000};        ///< a held account unused this long goes
    std::chrono::milliseconds sender_ttl{3 * 86'400'000};  ///< sender -> login memory (bounces)
    std::size_t known_domains = 500;       ///< recipient domains remembered per login
    std::size_t known_from_domains = 32;   ///< From: domains remembered per login
    std::size_t tracked_client_ips = 256;  ///< client IPs (and networks) remembered per day
};

/// InvalidInput unless the window is 1 min..1 day and divides a day, the half-life is 1 h..
/// 365 d, the TTLs are at least a day and at least the window, and the caps are 1..100,000.
util::Result<void> validate_tracking(const AccountTracking& tracking);

/// One message of an authenticated login, as the account check saw it. Tags are
/// account_tag() of the fact: short, printable, and the same on every node.
struct AccountActivity {
    std::uint64_t messages = 1;                      ///< 0 for an update that only reports refusals
    std::uint64_t recipients = 0;                    ///< accepted recipients
    std::uint64_t failed_recipients = 0;             ///< recipients refused at RCPT
    std::string client_ip_tag;                       ///< empty when the client has no IP (local)
    std::string client_net_tag;                      ///< of its /24 (IPv4) or /64 (IPv6)
    std::vector<std::string> recipient_domain_tags;  ///< distinct, at most kMaxDomainsPerUpdate
    std::uint64_t untracked_domains = 0;             ///< distinct domains beyond the cap
    std::vector<std::string> from_domain_tags;       ///< distinct, at most kMaxFromDomainsPerUpdate
    std::string sender;  ///< envelope sender (lower case) to remember for bounces; may be empty
};

/// InvalidInput for more tags than the caps allow or a tag that is not 1..32 bytes of
/// [0-9a-f], or a sender longer than kMaxLoginBytes.
util::Result<void> validate_activity(const AccountActivity& activity);

/// The short hash that stands for a fact (a domain, an IP, a network) in the account
/// record: 10 hex digits of its SHA-256, so any bytes are safe and records stay small.
std::string account_tag(std::string_view fact);

/// The login as the store keys it: ASCII lower case. InvalidInput when empty or longer
/// than kMaxLoginBytes.
util::Result<std::string> normalize_login(std::string_view login);

/// normalize_login(login) when `tracking` also passes validate_tracking; the first error
/// otherwise. The common first step of every AccountStore call.
util::Result<std::string> checked_login(std::string_view login, const AccountTracking& tracking);

/// Whether a login's mail is held.
enum class AccountState {
    Ok,    ///< mail flows
    Held,  ///< mail is held (hold queue or tempfail, per config) until released
};

/// "ok" | "held".
std::string_view to_string(AccountState state);

/// Who held an account, why, when, and the detector's figures at that moment.
struct HoldInfo {
    std::string by;      ///< "detector", or the admin ("admin:root")
    std::string reason;  ///< plain language, at most kMaxHoldReasonBytes
    util::SystemTime since{};
    double score = 0;     ///< detector score (0 for an admin hold)
    std::string figures;  ///< JSON document of the signals, at most kMaxHoldFiguresBytes
};

/// Activity of the current window (index = floor(now / window)).
struct WindowFigures {
    std::int64_t index = 0;
    std::uint64_t messages = 0;
    std::uint64_t recipients = 0;
    std::uint64_t failed_recipients = 0;
    std::uint64_t bounces = 0;
    std::uint64_t domains = 0;           ///< distinct recipient domains
    std::uint64_t new_domains = 0;       ///< never used before by this login
    std::uint64_t new_from_domains = 0;  ///< From: domains never used before
};

/// Activity of the current UTC day.
struct DayFigures {
    std::int64_t index = 0;
    std::uint64_t client_ips = 0;
    std::uint64_t client_nets = 0;  ///< distinct /24 or /64
};

/// Decaying averages of completed active windows (and days): the login's usual activity.
/// Each completed window that had messages adds its figures with weight 1, and older ones
/// lose half their weight every half-life; an average is sum / weight.
struct Baseline {
    double weight = 0;  ///< 0: no completed window yet
    double messages = 0;
    double recipients = 0;
    double failed_recipients = 0;
    double bounces = 0;
    double domains = 0;
    double new_domains = 0;
    double day_weight = 0;
    double client_ips = 0;
    double client_nets = 0;
    std::uint64_t messages_seen = 0;  ///< every message since tracking began

    double avg(double sum) const { return weight > 0 ? sum / weight : 0; }
    double day_avg(double sum) const { return day_weight > 0 ? sum / day_weight : 0; }
};

/// A login's account as of one moment.
struct AccountSnapshot {
    std::string login;
    AccountState state = AccountState::Ok;
    std::optional<HoldInfo> hold;            ///< set when held
    util::SystemTime release_grace_until{};  ///< after a release: not held again before this
    std::string released_by;                 ///< of the last release, empty when none
    util::SystemTime released_at{};
    WindowFigures window;
    DayFigures day;
    Baseline baseline;
    util::SystemTime first_seen{};
    util::SystemTime last_seen{};
};

/// Per-login account state. Thread-safe.
class AccountStore {
  public:
    virtual ~AccountStore() = default;

    /// "memory" or "redis".
    virtual std::string_view kind() const = 0;

    /// Adds `activity` to the login's account at `now` (first folding completed windows
    /// and days into the baseline, unless held) and returns the account after it: one
    /// atomic step (one round trip for Redis). Refreshes the TTLs. InvalidInput for a bad
    /// login, activity or tracking; Unavailable / Timeout / PermFailure from the backend.
    virtual util::Result<AccountSnapshot> record(std::string_view login,
                                                 const AccountActivity& activity,
                                                 const AccountTracking& tracking,
                                                 util::SystemTime now) = 0;

    /// Adds `count` hard bounces to the login's current window (nothing when the login is
    /// not tracked: a bounce alone does not create an account).
    virtual util::Result<void> record_bounces(std::string_view login, std::uint64_t count,
                                              const AccountTracking& tracking,
                                              util::SystemTime now) = 0;

    /// The login that last sent authenticated mail with this envelope sender (compared
    /// case-insensitively) within tracking.sender_ttl before `now`, or nullopt.
    virtual util::Result<std::optional<std::string>> login_of(std::string_view sender,
                                                              util::SystemTime now) = 0;

    /// The account as of `now` (folds shown, nothing written), or nullopt when untracked.
    virtual util::Result<std::optional<AccountSnapshot>> get(std::string_view login,
                                                             const AccountTracking& tracking,
                                                             util::SystemTime now) = 0;

    /// Holds the login (creating the account when needed). When it is already held the
    /// first hold is kept and false is returned; true when this call held it.
    virtual util::Result<bool> hold(std::string_view login, const HoldInfo& hold,
                                    const AccountTracking& tracking, util::SystemTime now) = 0;

    /// Releases the login: state ok, the current window's activity cleared (so the
    /// anomaly never enters the baseline), and no new hold by the detector before
    /// now + grace. Returns the hold that ended, or nullopt when it was not held.
    virtual util::Result<std::optional<HoldInfo>> release(std::string_view login,
                                                          std::string_view by,
                                                          std::chrono::milliseconds grace,
                                                          const AccountTracking& tracking,
                                                          util::SystemTime now) = 0;

    /// The held accounts (at most `limit`, in no particular order).
    virtual util::Result<std::vector<AccountSnapshot>> held(const AccountTracking& tracking,
                                                            util::SystemTime now,
                                                            std::size_t limit) = 0;
};

}  // namespace mailwarden::store
