// explain.hpp - per-recipient explanations of a parsed bounce, from the catalog.
//
// Joins what the report says (Action, Status, Remote-MTA, Diagnostic-Code) with what the
// catalog says about the diagnostic, and applies the few rules that need the report's
// context (the SMTP stage decides between "user unknown" and a filter; a delay without a
// known reason is an expiry in progress; see docs/explanations.md). Pure; never fails: unknown
// input explains as "undefined".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dsn/report.hpp"
#include "explain/catalog.hpp"

namespace mailwarden::dsn {

/// Everything a check, an event or `mailwardenctl explain` needs about one recipient.
struct RecipientExplanation {
    std::string recipient;           ///< Final-Recipient (else Original-Recipient)
    std::string original_recipient;  ///< Original-Recipient when given
    std::string action;              ///< failed, delayed, delivered... (empty when unknown)
    explain::Category reason = explain::Category::Undefined;
    std::string status;             ///< enhanced code (derived "5.0.9xx" when none given)
    std::optional<int> reply_code;  ///< basic SMTP code when the diagnostic has one
    std::string remote_host;        ///< the server that refused, when known
    bool permanent = true;          ///< failed = true, delayed = false, else from the codes
    std::string summary;
    std::string user_text;
    std::string admin_text;
    std::string diagnostic;     ///< the diagnostic text as the remote wrote it
    std::string entry_id;       ///< catalog entry used (for logs and tuning)
    std::string feedback_type;  ///< ARF reports only

    /// True for failed and delayed recipients (what a sender must be told about).
    bool is_failure() const;
};

/// Explains every recipient of `report`, in report order.
std::vector<RecipientExplanation> explain(const Report& report, const explain::Catalog& catalog);

}  // namespace mailwarden::dsn
