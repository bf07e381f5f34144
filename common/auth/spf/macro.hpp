// macro.hpp - SPF macro strings (RFC 7208 §7): syntax check and expansion.
//
// Covers every macro letter (s l o d i p v h, and c r t in explanations only), the
// transformers (digits, "r"), the delimiters . - + , / _ =, URL escaping of upper-case
// letters and the escapes %% %_ %-. Out of scope: DNS (the caller supplies %{p} lazily).
// Bounded: output longer than kMaxExpansionOctets is an error. Never throws.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "util/error.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::auth::spf {

/// Where a macro string appears: explanation text allows c, r and t (RFC 7208 §7.2).
enum class MacroMode {
    DomainSpec,   ///< a mechanism or modifier argument (s l o d i p v h)
    Explanation,  ///< the TXT text fetched by exp= (adds c r t)
};

/// Expansion can never produce more than this; longer is InvalidInput (a permerror).
inline constexpr std::size_t kMaxExpansionOctets = 8192;
/// RFC 7208 §7.3: an expanded domain name is cut to this many octets from the left.
inline constexpr std::size_t kMaxDomainOctets = 253;

/// The values macros expand to. Views must outlive the expand() call.
struct MacroContext {
    util::IpAddress ip;                     ///< <ip>, already unmapped (IPv4-mapped -> IPv4)
    std::string_view sender;                ///< %{s}: "local@domain"
    std::string_view local_part;            ///< %{l}
    std::string_view sender_domain;         ///< %{o}
    std::string_view domain;                ///< %{d}: the current <domain>
    std::string_view helo;                  ///< %{h}
    std::string_view receiver = "unknown";  ///< %{r}
    std::int64_t timestamp = 0;             ///< %{t}: seconds since the epoch
    /// %{p}: the validated domain name of <ip> (RFC 7208 §5.5), computed on first use;
    /// "unknown" when absent.
    std::function<std::string()> validated_domain;
};

/// Checks `text` against the macro-string grammar (RFC 7208 §7.1) without expanding.
/// InvalidInput naming the offending macro.
util::Result<void> validate_macro_string(std::string_view text, MacroMode mode);

/// Expands `text`. InvalidInput on a syntax error (the caller maps it to permerror, or for
/// explanations to "no explanation") or when the result exceeds kMaxExpansionOctets.
util::Result<std::string> expand(std::string_view text, const MacroContext& context,
                                 MacroMode mode);

/// Removes whole labels from the left until `name` is at most kMaxDomainOctets long
/// (RFC 7208 §7.3); the result may be empty if a single label is longer.
std::string truncate_domain(std::string name);

}  // namespace mailwarden::auth::spf
