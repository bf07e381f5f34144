// message_kind.hpp - what kind of message a transaction carries, as far as verdicts go.
#pragma once

namespace mailwarden::policy {

/// What the verdict is for. A delivery report (a DSN) may only be continued, accepted or
/// quarantined: refusing one makes Postfix retry the bounce forever ("bounce failed") and
/// discarding one loses it, so composition turns every stronger decision into a warning.
enum class MessageKind {
    Ordinary,        ///< any other message
    DeliveryReport,  ///< a bounce or delay notice recognised by the bounce check
};

}  // namespace mailwarden::policy
