// result.hpp - the verdict on one DKIM-Signature (RFC 6376 §3.9, RFC 8601 §2.7.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailwarden::auth::dkim {

/// The RFC 8601 DKIM results.
enum class Result {
    None,       ///< the message carries no DKIM-Signature
    Pass,       ///< the signature verified
    Fail,       ///< the signature or the body hash did not verify
    Neutral,    ///< verified but not usable (unused in practice; kept for RFC 8601)
    Policy,     ///< verified but refused by local policy (e.g. l= covers too little)
    TempError,  ///< the key could not be fetched now (DNS timeout, SERVFAIL)
    PermError,  ///< unusable signature or key: syntax, no key, revoked, too short, ...
};

/// "none", "pass", "fail", "neutral", "policy", "temperror", "permerror".
std::string_view to_string(Result result) noexcept;

/// The result named `text` (case-insensitive), or nullopt.
std::optional<Result> parse_result(std::string_view text) noexcept;

/// The verdict on one signature, with what an admin needs to see why.
struct SignatureResult {
    Result result = Result::None;
    std::string domain;     ///< d= (lower case); empty if the signature had none
    std::string selector;   ///< s=
    std::string identity;   ///< i= as given, or "@" + d= when absent
    std::string algorithm;  ///< a= ("rsa-sha256", "ed25519-sha256", ...)
    std::string signature;  ///< b= without whitespace (header.b uses its first 8+ chars)
    std::string reason;     ///< why, in plain words: "body hash did not verify", "key revoked"
    unsigned key_bits = 0;  ///< size of the public key when one was parsed (256 for ed25519)
    bool body_length_limited = false;  ///< l= was present (part of the body is unsigned)
};

}  // namespace mailwarden::auth::dkim
