// keys.hpp - every Redis key name mailwarden uses; the only place keys are built
// (DESIGN.md "Redis data model"). All keys start with a configurable prefix ("mw:").
//
// Parts taken from user data (addresses, logins) go through key_part(): kept when
// printable and at most kMaxKeyPartBytes long, or else replaced by a hash, so two distinct
// inputs never share a key and no input can reach another key family. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/clock.hpp"

namespace mailwarden::store {

/// The default key prefix.
inline constexpr std::string_view kDefaultKeyPrefix = "mw:";
/// Longest user-derived key part kept verbatim; longer parts are hashed.
inline constexpr std::size_t kMaxKeyPartBytes = 200;

/// Builds the key names for one prefix.
class Keys {
  public:
    explicit Keys(std::string prefix = std::string(kDefaultKeyPrefix));

    const std::string& prefix() const { return prefix_; }

    /// `mw:events`: the stream of all events (capped with MAXLEN ~).
    std::string events() const;
    /// `mw:codes:{yyyymmddhh}`: hash code -> count for the UTC hour containing `hour`.
    std::string codes(util::SystemTime hour) const;
    /// `mw:sender:{addr}`: that sender's recent events (capped); `address` is compared
    /// case-insensitively, so "A@X" and "a@x" share a stream.
    std::string sender(std::string_view address) const;

    /// `mw:rl:{rule}:{key}`: a rate-limit bucket (GCRA state; TTL = window). A rule name
    /// containing ':' is hashed like odd user text, so rule and key never run together.
    std::string rate_limit(std::string_view rule, std::string_view key) const;
    /// `mw:acct:{login}`: account state of a SASL login (case kept).
    std::string account(std::string_view login) const;
    /// `mw:held`: the set of logins whose mail is held.
    std::string held() const;
    /// `mw:login_of:{sender}`: the login that last sent authenticated mail as this
    /// envelope sender (compared case-insensitively), for hard-bounce signals; TTL.
    std::string login_of(std::string_view sender) const;
    /// `mw:overrides`: hash of per-login rate-limit overrides set with mailwardenctl
    /// (field `{rule}:{login}`, capped in number).
    std::string overrides() const;

    // Outgoing failures (bounces): analytics for `mailwardenctl top` and `failures`.
    /// `mw:fail:count:{dimension}:{yyyymmddhh}`: hash value -> count of outgoing failures in the
    /// UTC hour containing `hour`, by `dimension` ("code", "category", "domain", "host").
    std::string failure_counter(std::string_view dimension, util::SystemTime hour) const;
    /// `mw:fail:recent:{owner}:{who}`: list of recent outgoing failures (JSON events, newest first,
    /// capped) of a sender, a login or a recipient domain (`owner` = "sender", "login",
    /// "domain"); senders and domains compare case-insensitively.
    std::string failure_list(std::string_view owner, std::string_view who) const;

    /// A bounded, injective encoding of user text as a key part: the text itself when it
    /// is 1..kMaxKeyPartBytes bytes of printable ASCII (0x21-0x7e) not starting with '#';
    /// otherwise "#" followed by 32 hex digits of its SHA-256. Case is kept.
    static std::string key_part(std::string_view user_text);

  private:
    std::string prefix_;
};

/// "yyyymmddhh" of the UTC hour containing `t`.
std::string hour_stamp(util::SystemTime t);

/// SHA-256 of `data` as 64 lower-case hex digits (FIPS 180-4); exposed for tests.
std::string sha256_hex(std::string_view data);

}  // namespace mailwarden::store
