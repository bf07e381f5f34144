// explain.hpp - `mailwardenctl explain`: explain a diagnostic or a stored bounce, offline.
//
//   mailwardenctl explain "550-5.7.26 This mail has been blocked ..."   one reply/diagnostic
//   mailwardenctl explain --file bounce.eml [--json]                    every failed/delayed
//                                                                       recipient of a bounce
// Needs no daemon, no Redis: only the catalog (--catalog FILE, default
// /etc/mailwarden/explanations.yaml, then the source tree's conf/explanations.yaml when
// built with MW_DEFAULT_CATALOG). Exit status: 0 ok, 1 unusable input or catalog, 2 the
// file is not a bounce.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace mailwarden::ctl {

/// Registers the `explain` subcommand and its options on `app`.
void add_explain_command(CLI::App& app);

}  // namespace mailwarden::ctl
