// explanation.hpp - what the catalog says about one diagnostic: the match and its texts.
//
// A Match names the catalog entry that explained the diagnostic, the category, permanence,
// the effective codes, and the three texts with their {placeholders} filled from the
// Context and from named captures of the matching pattern. Plain values, no ownership of
// the catalog beyond a non-owning pointer valid while the Catalog lives.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "explain/category.hpp"

namespace mailwarden::explain {

struct Entry;

/// What the caller knows around the diagnostic; every field may be empty.
struct Context {
    std::string recipient;    ///< the failed recipient ("bob@example.org")
    std::string sender;       ///< the original envelope sender
    std::string remote_host;  ///< the server that refused, when known outside the text
    std::string remote_ip;    ///< its address
};

/// How the entry was chosen, from the most to the least specific.
enum class MatchSource {
    Pattern,         ///< a provider/filter text pattern matched
    EnhancedStatus,  ///< the RFC 3463 code's entry (exact code or its X.s.d form)
    ReplyCode,       ///< the RFC 5321 basic code's entry
    Fallback,        ///< nothing matched: the "undefined" entry
};

/// "pattern", "enhanced-status", "reply-code", "fallback".
std::string_view to_string(MatchSource source) noexcept;

/// The catalog's verdict on one diagnostic.
struct Match {
    const Entry* entry = nullptr;  ///< never null after Catalog::classify
    std::string entry_id;
    Category category = Category::Undefined;
    MatchSource source = MatchSource::Fallback;
    bool permanent = true;
    /// The enhanced code found in the diagnostic, else the derived "5.0.9xx" code of the
    /// category (see derived_status), else empty for non-failures.
    std::string status;
    /// True when `status` came from the diagnostic, false when derived.
    bool status_from_diagnostic = false;
    std::optional<int> reply_code;
    std::string remote_host;
    std::string summary;     ///< one line, placeholders filled
    std::string user_text;   ///< for the sender: what happened, likely cause, what to do
    std::string admin_text;  ///< for the administrator: technical detail, what to check
    /// Every placeholder value used ({recipient}, {listed_ip}, ...), for callers' logs.
    std::map<std::string, std::string, std::less<>> values;
};

/// The placeholder names a catalog text may use; anything else is a load error.
bool is_known_placeholder(std::string_view name) noexcept;

/// Replaces each {name} in `text` by values[name], or by the neutral wording for that
/// placeholder when the value is empty ("the receiving server" for {remote_host}).
/// "{{" and "}}" give literal braces. Unknown names are left as written.
std::string fill_placeholders(std::string_view text,
                              const std::map<std::string, std::string, std::less<>>& values);

}  // namespace mailwarden::explain
