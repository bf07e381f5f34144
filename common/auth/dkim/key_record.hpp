// key_record.hpp - DKIM public key records in DNS (RFC 6376 §3.6.1, RFC 8463 §4).
//
// parse_key_record() reads the TXT record published at <s>._domainkey.<d>: v=DKIM1 (first
// when present), k= (rsa, ed25519), h= (acceptable hashes), s= (service types), t= flags
// and p= (empty = revoked). The key bytes are decoded from base64 but not interpreted (see
// crypto.hpp). RFC 4870's g= is not part of RFC 6376 and is ignored like any unknown tag.
// Never throws.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "auth/dkim/signature.hpp"

namespace mailwarden::auth::dkim {

/// A syntactically valid key record.
struct KeyRecord {
    KeyType type = KeyType::Rsa;           ///< k= (default rsa)
    bool allows_sha1 = true;               ///< h= lists sha1 (or h= is absent)
    bool allows_sha256 = true;             ///< h= lists sha256 (or h= is absent)
    bool email_service = true;             ///< s= lists "email" or "*" (or s= is absent)
    bool testing = false;                  ///< t=y: the domain is testing DKIM
    bool strict_identity = false;          ///< t=s: i= must be exactly d=, not a subdomain
    bool revoked = false;                  ///< p= is empty
    std::vector<std::uint8_t> public_key;  ///< p=, decoded
};

/// A record longer than this is refused (DNS cannot carry more in practice; RFC 8301 keys
/// of 4096 bits need under 800 octets). Bounds the work spent on a hostile record.
inline constexpr std::size_t kMaxKeyRecordOctets = 8192;

/// Parses the TXT record `text` (strings already concatenated). On error, a plain-language
/// reason ("key record syntax error: ...", "key record version is not DKIM1", "unknown key
/// type k=dsa", "key record has no p= tag").
std::expected<KeyRecord, std::string> parse_key_record(std::string_view text);

/// "" when `key` may verify `signature` (RFC 6376 §6.1.2: k= matches a=, h= allows the
/// hash, s= allows email, t=s requires i= in exactly d=, not revoked), else the reason.
std::string check_key_usable(const KeyRecord& key, const Signature& signature);

}  // namespace mailwarden::auth::dkim
