// verdict.hpp - composition of the decisions of all checks into one verdict.
//
// The only place where decisions meet (Postfix smtpd_check's ordered restrictions,
// rspamd's single action switch): the most severe action wins; the first decision at that
// severity gives the reply and the others at the same severity add their lines (without
// duplicates, up to smtp::kMaxReplyLines); header edits of every decision are kept; a
// `warn_only` decision is recorded but counts as Continue.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "policy/decision.hpp"
#include "policy/message_kind.hpp"

namespace mailwarden::policy {

/// The composed outcome of one stage (or of the whole message at end of message).
struct Verdict {
    Action action = Action::Continue;
    std::optional<smtp::Reply> reply;  ///< set for Reject and Tempfail
    std::vector<HeaderEdit> headers;   ///< to apply when the message is accepted
    std::optional<std::string> body;   ///< replacement body, applied with the headers
    std::vector<Decision> decisions;   ///< every decision with an opinion, in check order
    std::string deciding_check;        ///< the check whose decision set the action

    bool refuses() const noexcept { return is_refusal(action); }
};

/// The reply used when a refusing check gave none: 550 5.7.1 / 451 4.7.1.
smtp::Reply default_reply(Action action);

/// Composes decisions (in check order) into a verdict. For a DeliveryReport every decision
/// above Quarantine counts as warn-only (recorded as "warn:reject"...), so the verdict's
/// action is at most Quarantine whatever the checks said.
Verdict compose(std::span<const Decision> decisions, MessageKind kind = MessageKind::Ordinary);

/// The highest action a verdict for `kind` may carry.
constexpr Action strongest_allowed(MessageKind kind) noexcept {
    return kind == MessageKind::DeliveryReport ? Action::Quarantine : Action::Reject;
}

}  // namespace mailwarden::policy
