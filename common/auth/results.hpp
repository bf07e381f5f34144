// results.hpp - the Authentication-Results header field (RFC 8601) this server writes, and
// recognition of fields that claim to be ours (spoofing, RFC 8601 §5).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "auth/dkim/result.hpp"
#include "auth/dmarc/evaluator.hpp"
#include "auth/spf/evaluator.hpp"

namespace mailwarden::auth {

/// What one message's authentication found; any part may be absent (not evaluated).
struct AuthSummary {
    std::optional<spf::Outcome> spf;
    /// DKIM results, one per signature (empty and `dkim_evaluated` true means dkim=none).
    std::span<const dkim::SignatureResult> dkim;
    bool dkim_evaluated = false;
    std::optional<dmarc::Outcome> dmarc;
};

/// The value of one Authentication-Results field (without "Authentication-Results:"),
/// folded at 78 columns with CRLF + tab: "mx.example.org;\r\n\tspf=pass
/// smtp.mailfrom=a@example.com;\r\n\tdkim=pass header.d=example.com header.s=s1
/// header.b=AbCdEfGh;\r\n\tdmarc=pass (p=reject) header.from=example.com". Comments and
/// property values are sanitized so that untrusted input cannot break the syntax. With
/// nothing evaluated it is "authserv-id; none".
std::string format_authentication_results(std::string_view authserv_id, const AuthSummary& summary);

/// The authserv-id of an Authentication-Results field value (CFWS and the optional
/// version skipped), or nullopt when the value is unparseable.
std::optional<std::string> authserv_id_of(std::string_view field_value);

/// True when the field value claims `authserv_id` (compared case-insensitively): such a
/// field arriving from outside is forged and must be removed before ours is added.
bool claims_authserv_id(std::string_view field_value, std::string_view authserv_id);

}  // namespace mailwarden::auth
