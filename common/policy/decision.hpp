// decision.hpp - what one check says at one stage: an action, an optional SMTP reply,
// header edits, and the reason for the admin.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/action.hpp"
#include "smtp/reply.hpp"

namespace mailwarden::policy {

/// A change to the message's header, applied only when the message is accepted.
struct HeaderEdit {
    enum class Kind {
        Add,     ///< append at the end of the header
        Insert,  ///< insert at `index` (0 = first, above Received:)
        Remove,  ///< remove the `index`-th (1-based) field called `name`
    };
    Kind kind = Kind::Add;
    std::string name;
    std::string value;
    int index = 0;
    friend bool operator==(const HeaderEdit&, const HeaderEdit&) = default;
};

/// One check's decision. A default-constructed Decision is "no opinion".
struct Decision {
    Action action = Action::Continue;
    std::optional<smtp::Reply> reply;  ///< for Reject/Tempfail; a default is used if absent
    std::string check;                 ///< the check's name (set by the pipeline)
    std::string reason;                ///< for logs and events ("sender matches rule X")
    std::vector<HeaderEdit> headers;   ///< kept whatever the action
    bool warn_only = false;            ///< mode: warn — recorded, but the action is Continue
    bool final = false;                ///< with Accept: later checks are skipped
    /// A new message body (the bounce check's rewrite), applied only when the message is
    /// accepted or quarantined; the last decision that sets one wins.
    std::optional<std::string> body;

    /// A decision with no opinion.
    static Decision none() { return {}; }
};

}  // namespace mailwarden::policy
