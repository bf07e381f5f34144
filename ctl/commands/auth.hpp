// auth.hpp - `mailwardenctl auth FILE.eml --client-ip IP`: SPF, every DKIM signature,
// DMARC and the outbound preflight on a stored message, offline, as the milter would.
#pragma once

#include <CLI/CLI.hpp>

namespace mailwarden::ctl {

/// Registers `auth FILE --client-ip IP [--helo H] [--mail-from S] [--authserv-id ID]
/// [--outbound-ip IP]... [--signing-domain D]... [--psl FILE] [--dns-zone FILE]
/// [--dns-server H[@P]]... [--json]`. Prints each result with its reason and the
/// Authentication-Results header the milter would write; exits 0 whenever the checks ran,
/// 2 on bad arguments or an unreadable message.
void add_auth_command(CLI::App& app);

}  // namespace mailwarden::ctl
