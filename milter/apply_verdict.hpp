// apply_verdict.hpp - the only translation of a Verdict into MTA actions (rspamd's
// single action switch): reply text, header edits, quarantine, and the callback's answer.
#pragma once

#include <string>

#include "milter/mta_context.hpp"
#include "milter/session.hpp"
#include "policy/verdict.hpp"

namespace mailwarden::milter {

/// Applies a verdict. Before end of message only refusals act (the rest waits for end of
/// message). At end of message header edits and the body replacement are applied to
/// accepted and quarantined mail.
/// Failures of the MTA calls are logged with `queue_id`, never thrown.
Outcome apply_verdict(MtaContext& mta, const policy::Verdict& verdict, bool end_of_message,
                      const std::string& queue_id);

}  // namespace mailwarden::milter
