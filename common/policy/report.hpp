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

/// "qid=... stage=... check=... action=... code=... dsn=... client=... from=<...> to=<...>
/// login=... reason=..." for one decision at one stage.
std::string decision_log_line(const Transaction& tx, Stage stage, const Decision& decision,
                              const Verdict& verdict);

/// The events to record for a stage's verdict: one per decision that refused, quarantined,
/// discarded or warned. Plain accepts give none. `node` names this host.
std::vector<store::Event> events_for(const Transaction& tx, Stage stage, const Verdict& verdict,
                                     util::SystemTime now, const std::string& node);

}  // namespace mailwarden::policy
