// spf.hpp - `mailwardenctl spf DOMAIN IP`: evaluate SPF and show why, for an admin.
#pragma once

#include <CLI/CLI.hpp>

namespace mailwarden::ctl {

/// Registers `spf DOMAIN IP [--sender S] [--helo H] [--dns-zone FILE] [--dns-server
/// HOST[@PORT]]... [--timeout-ms N] [--json]` on `app`. Prints the result with the full
/// trace (or JSON); exits 0 whenever an evaluation ran, 2 on bad arguments or an unusable
/// zone file or resolver.
void add_spf_command(CLI::App& app);

}  // namespace mailwarden::ctl
