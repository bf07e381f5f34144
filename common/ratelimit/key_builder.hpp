// key_builder.hpp - bucket keys from the facts of a message: `{rule}:{period}:{subject}`,
// which RedisBucketStore stores as `mw:rl:{rule}:{period}:{subject}`.
//
// The subject joins one encoded part per KeyPart with '|'. A part is kept as it is when it
// is 1..kMaxReadablePart bytes of printable ASCII without '#' or '|'; otherwise it becomes
// a readable prefix (its leading [A-Za-z0-9.@_+:-] bytes, at most kReadablePrefix) + '#'
// + 32 hex digits of the SHA-256 of the whole part. A kept part never contains '#', and
// the hash covers every byte, so two different facts never give one key; keys stay
// printable (no CR, LF, space) and bounded (under store::kMaxBucketKeyBytes with all six
// parts). Rule names and periods contain no ':', so the fields cannot run into each
// other. Pure.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ratelimit/rule.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::ratelimit {

/// Longest part kept verbatim.
inline constexpr std::size_t kMaxReadablePart = 64;
/// Longest readable prefix kept before the hash of a part that is not kept verbatim.
inline constexpr std::size_t kReadablePrefix = 32;

/// What the limiter knows about a message. Text is taken as sent; the builder lower-cases
/// addresses, domains and logins so case cannot split one sender into several buckets.
struct MessageFacts {
    Direction direction = Direction::Outbound;
    std::string login;   ///< SASL login; empty when not authenticated
    std::string sender;  ///< MAIL FROM address, without <>; empty for <>
    std::optional<util::IpAddress> client_ip;
    /// At RCPT: the one recipient being added. At end of message: all accepted recipients.
    std::vector<std::string> recipients;
};

/// The encoding of one part (see the file comment).
std::string encode_part(std::string_view text);

/// The subject of `key` for a message, for one recipient (used only when the key has a
/// Recipient part); nullopt when a fact the key needs is missing (no login, null sender,
/// sender without '@' for sender_domain, no client address, empty recipient).
std::optional<std::string> subject(std::span<const KeyPart> key, const MessageFacts& facts,
                                   std::string_view recipient = {});

/// `{rule}:{format_period(period)}:{subject}`, the BucketRequest::key.
std::string bucket_key(std::string_view rule, std::chrono::milliseconds period,
                       std::string_view subject);

}  // namespace mailwarden::ratelimit
