// result.hpp - the seven SPF results of RFC 7208 §2.6 and their names.
#pragma once

#include <optional>
#include <string_view>

namespace mailwarden::auth::spf {

/// The outcome of check_host() (RFC 7208 §2.6).
enum class Result {
    None,       ///< no SPF record, or no valid domain to check (§2.6.1)
    Neutral,    ///< the domain makes no assertion about the client (§2.6.2)
    Pass,       ///< the client is authorised to use the domain (§2.6.3)
    Fail,       ///< the client is explicitly not authorised (§2.6.4)
    SoftFail,   ///< the client is probably not authorised (§2.6.5)
    TempError,  ///< a transient (DNS) error; a later retry may succeed (§2.6.6)
    PermError,  ///< the published record is wrong and needs a human to fix it (§2.6.7)
};

/// The RFC name: "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror".
std::string_view to_string(Result result) noexcept;

/// The result named `text` (case-insensitive), or nullopt.
std::optional<Result> parse_result(std::string_view text) noexcept;

}  // namespace mailwarden::auth::spf
