// accounts.hpp - `mailwardenctl accounts | hold LOGIN | release LOGIN`: the logins held by
// the compromised-account detector or an admin, with reasons and figures; holding and
// releasing by hand (release also prints, or with --run runs, `postsuper -H` for the
// login's messages in Postfix's hold queue, found in the events).
#pragma once

#include <CLI/CLI.hpp>

namespace mailwarden::ctl {

/// Registers `accounts`, `hold` and `release` on `app`.
void add_accounts_commands(CLI::App& app, const std::string& config_path);

}  // namespace mailwarden::ctl
