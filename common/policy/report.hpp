// report.hpp - how a verdict is told: one log line per decision (Postfix log_whatsup
// style) and one store::Event per recorded decision.
#pragma once

#include <string>
#include <vector>

#include "policy/transaction.hpp"
#include "policy/verdict.hpp"
#include "store/event.hpp"
#include "util/clock.hpp"

namespace mailwarden::policy {

/// True when `decision` is reported (logged and recorded) at `stage`: refusals and
/// warn-only decisions where they happen; accepted-with-action decisions (quarantine,
/// discard) at end of message, where they take effect. Plain accepts and no-opinion
/// decisions never.
bool reported_at(const Decision& decision, Stage stage);

/// "qid=... stage=... check=... action=... code=... dsn=... client=... from=<...> to=<...>
/// login=... reason=..." for one decision at one stage.
std::string decision_log_line(const Transaction& tx, Stage stage, const Decision& decision,
                              const Verdict& verdict);

/// The events to record for a stage's verdict: one per decision that refused, quarantined,
/// discarded or warned. Plain accepts give none. `node` names this host.
std::vector<store::Event> events_for(const Transaction& tx, Stage stage, const Verdict& verdict,
                                     util::SystemTime now, const std::string& node);

/// One "outgoing_failure" event per failed or delayed recipient of the delivery report in
/// `tx` (tx.message.outgoing_failures): original sender, login, recipient, remote host,
/// codes, category; queue_id is the failed message's when the report names it.
std::vector<store::Event> outgoing_failure_events(const Transaction& tx, util::SystemTime now,
                                                  const std::string& node);

}  // namespace mailwarden::policy
