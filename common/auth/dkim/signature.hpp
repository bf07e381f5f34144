// signature.hpp - DKIM-Signature header fields (RFC 6376 §3.5, RFC 8301, RFC 8463).
//
// parse_signature() applies every syntax and consistency rule a verifier checks before it
// asks DNS for the key (RFC 6376 §6.1.1): required tags, v=1, known a= and c=, h= with
// From, i= within d=, q=dns/txt, l= and t=/x= as numbers with x= after t=. Time-dependent
// checks (expiry) are separate (check_times). Never throws; a failure is a plain-language
// reason for a permerror.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailwarden::auth::dkim {

/// a=: RFC 6376 §3.3, RFC 8463 §3.
enum class Algorithm { RsaSha1, RsaSha256, Ed25519Sha256 };
/// The hash half of an algorithm.
enum class HashAlgorithm { Sha1, Sha256 };
/// The key type half of an algorithm (k= of the key record).
enum class KeyType { Rsa, Ed25519 };
/// c=: RFC 6376 §3.4.
enum class Canonicalization { Simple, Relaxed };

/// "rsa-sha1", "rsa-sha256", "ed25519-sha256".
std::string_view to_string(Algorithm algorithm) noexcept;
/// "sha1", "sha256".
std::string_view to_string(HashAlgorithm hash) noexcept;
/// "rsa", "ed25519".
std::string_view to_string(KeyType type) noexcept;
HashAlgorithm hash_of(Algorithm algorithm) noexcept;
KeyType key_type_of(Algorithm algorithm) noexcept;

/// A b= longer than this is refused before any work: a 32768-bit RSA signature (and so
/// anything Options::max_rsa_bits may allow) fits.
inline constexpr std::size_t kMaxSignatureOctets = 4096;

/// A syntactically valid DKIM-Signature.
struct Signature {
    Algorithm algorithm = Algorithm::RsaSha256;
    std::string algorithm_text;    ///< a= as written (lower case)
    std::vector<std::uint8_t> b;   ///< the signature octets
    std::string b_text;            ///< b= without whitespace
    std::vector<std::uint8_t> bh;  ///< the body hash octets
    Canonicalization header_canon = Canonicalization::Simple;
    Canonicalization body_canon = Canonicalization::Simple;
    std::string domain;                       ///< d=, lower case
    std::vector<std::string> headers;         ///< h=, names as written, in order
    std::string identity;                     ///< i= as written, or "@" + d=
    std::string identity_domain;              ///< the domain part of i=, lower case
    std::optional<std::uint64_t> length;      ///< l=
    std::string selector;                     ///< s=
    std::optional<std::uint64_t> timestamp;   ///< t=
    std::optional<std::uint64_t> expiration;  ///< x=
    /// The field value with the b= value removed (RFC 6376 §3.7): what the header hash
    /// covers for this field, with the folding of the original.
    std::string value_without_b;
};

/// The fields of a signature that could be read even when it is invalid, for the result.
struct SignatureIdentity {
    std::string domain;
    std::string selector;
    std::string identity;
    std::string algorithm;
    std::string signature;
};

/// Whatever d=, s=, i=, a=, b= can be read from `value` (no validation beyond the tag list;
/// empty when the tag list itself does not parse).
SignatureIdentity peek_identity(std::string_view value);

/// Parses the value of a DKIM-Signature field (after the colon, folding normalized to CRLF).
std::expected<Signature, std::string> parse_signature(std::string_view value);

/// RFC 6376 §3.5 t=/x=: "" when `signature` may be used at `now`, else the reason
/// ("signature expired at 2024-05-01T10:00:00Z", "signature timestamp is in the future").
std::string check_times(const Signature& signature, std::chrono::system_clock::time_point now,
                        std::chrono::seconds clock_skew);

/// True when `name` is a syntactically valid domain name for DNS (LDH labels, underscores
/// tolerated, at most 253 octets, labels of 1 to 63 octets).
bool is_valid_dns_name(std::string_view name) noexcept;

}  // namespace mailwarden::auth::dkim
