// action.hpp - the closed set of actions a check can ask for, in increasing severity.
#pragma once

#include <optional>
#include <string_view>

namespace mailwarden::policy {

/// What a check wants done. Composition picks the most severe (the highest value).
enum class Action {
    Continue = 0,    ///< no opinion (Postfix DUNNO): later checks and the default decide
    Accept = 1,      ///< accept the message; with `final`, later checks are skipped
    Quarantine = 2,  ///< accept into the MTA's hold queue: nothing lost, nothing delivered
    Discard = 3,     ///< accept and silently drop (the sender is told it was delivered)
    Tempfail = 4,    ///< 4xx: the client should try again later
    Reject = 5,      ///< 5xx: refuse for good
};

/// "continue", "accept", "quarantine", "discard", "tempfail", "reject".
constexpr std::string_view to_string(Action action) noexcept {
    switch (action) {
        case Action::Continue:
            return "continue";
        case Action::Accept:
            return "accept";
        case Action::Quarantine:
            return "quarantine";
        case Action::Discard:
            return "discard";
        case Action::Tempfail:
            return "tempfail";
        case Action::Reject:
            return "reject";
    }
    return "continue";
}

/// The inverse of to_string; also accepts "allow" for Accept. nullopt for other words.
constexpr std::optional<Action> parse_action(std::string_view text) noexcept {
    if (text == "continue")
        return Action::Continue;
    if (text == "accept" || text == "allow")
        return Action::Accept;
    if (text == "quarantine")
        return Action::Quarantine;
    if (text == "discard")
        return Action::Discard;
    if (text == "tempfail")
        return Action::Tempfail;
    if (text == "reject")
        return Action::Reject;
    return std::nullopt;
}

/// True for actions that refuse the message or recipient with an SMTP reply.
constexpr bool is_refusal(Action action) noexcept {
    return action == Action::Tempfail || action == Action::Reject;
}

}  // namespace mailwarden::policy
