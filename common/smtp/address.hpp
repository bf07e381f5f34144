// address.hpp - envelope addresses as MTAs hand them to a milter.
//
// Postfix sends "<user@example.com>" for SMTP mail, "user@example.com" (no brackets) for
// non-SMTP mail and "" for the null sender of a DSN; Sendmail sends "<>" for the null
// sender. ESMTP parameters follow in separate arguments and are not part of the address.
#pragma once

#include <string>
#include <string_view>

#include "util/error.hpp"

namespace mailwarden::smtp {

inline constexpr std::size_t kMaxAddressLength = 4096;  // far above RFC 5321's 256

/// A parsed envelope address. `domain` is lower-cased; `local_part` is kept as sent.
struct Address {
    std::string local_part;
    std::string domain;

    /// True for the null sender (<>, or an empty string).
    bool is_null() const noexcept { return local_part.empty() && domain.empty(); }
    /// "local@domain", or "" for the null sender, or "local" without a domain.
    std::string to_string() const;
    friend bool operator==(const Address&, const Address&) = default;
};

/// Parses an envelope address: strips angle brackets and an RFC 5321 source route
/// ("<@a,@b:user@c>"), splits at the last '@', lower-cases the domain, unquotes nothing.
/// InvalidInput for addresses longer than kMaxAddressLength or with CR, LF or NUL.
util::Result<Address> parse_envelope_address(std::string_view text);

}  // namespace mailwarden::smtp
