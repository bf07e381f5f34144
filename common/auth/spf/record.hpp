// record.hpp - SPF records (RFC 7208 §4.5, §5, §6, §12): selection and parsing.
//
// parse_record() checks the whole record against the RFC 7208 §12 grammar before anything
// is evaluated (§4.6: a syntax error anywhere is a permerror). Domain-specs are kept
// unexpanded; their macro syntax and domain-end are checked here. Never throws; bounded by
// kMaxRecordOctets and kMaxTerms.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::auth::spf {

/// A record longer than this is rejected as a permerror (DNS cannot carry more in practice).
inline constexpr std::size_t kMaxRecordOctets = 4096;
/// A record with more terms than this is rejected as a permerror.
inline constexpr std::size_t kMaxTerms = 512;

/// RFC 7208 §4.6.2 qualifiers.
enum class Qualifier : char {
    Pass = '+',
    Fail = '-',
    SoftFail = '~',
    Neutral = '?',
};

/// RFC 7208 §5 mechanisms.
enum class MechanismKind { All, Include, A, Mx, Ptr, Ip4, Ip6, Exists };

/// "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists".
std::string_view to_string(MechanismKind kind) noexcept;

/// One directive: qualifier, mechanism and its arguments.
struct Mechanism {
    Qualifier qualifier = Qualifier::Pass;
    MechanismKind kind = MechanismKind::All;
    std::string domain_spec;            ///< unexpanded; empty = <domain> (a, mx, ptr)
    int cidr4 = 32;                     ///< a, mx: ip4-cidr-length
    int cidr6 = 128;                    ///< a, mx: ip6-cidr-length
    std::optional<util::Cidr> network;  ///< ip4, ip6
    std::string text;                   ///< the term as written, for traces
};

/// A parsed record. Unknown modifiers are kept (RFC 7208 §6: ignored) for traces only.
struct Record {
    std::vector<Mechanism> mechanisms;
    std::optional<std::string> redirect;  ///< unexpanded domain-spec
    std::optional<std::string> exp;       ///< unexpanded domain-spec
    std::vector<std::string> unknown_modifiers;
    std::string text;  ///< the record as published
};

/// Why parse_record rejected a record: the term at fault and the rule it broke.
struct SyntaxError {
    std::string term;
    std::string reason;

    /// "term 'x': reason".
    std::string describe() const;
};

/// True when `txt` is an SPF version 1 record: "v=spf1" (any case) alone or followed by a
/// space (RFC 7208 §4.5). Other TXT records are not SPF's business.
bool is_spf_record(std::string_view txt) noexcept;

/// Parses a record for which is_spf_record() holds.
std::expected<Record, SyntaxError> parse_record(std::string_view text);

/// True when `spec` (unexpanded) is a syntactically valid domain-spec (RFC 7208 §7.1):
/// valid macro-string that ends in a macro-expand or in "." toplabel ["."].
bool is_valid_domain_spec(std::string_view spec);

}  // namespace mailwarden::auth::spf
