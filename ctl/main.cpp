// main.cpp - `mailwardenctl`: the admin's view of mailwarden.
//   mailwardenctl [-c FILE] events [--sender S] [--login L] [--code C] [--since 24h] [--json]
//   mailwardenctl [-c FILE] limits [KEY] [--dry-run] | override LOGIN RULE LIMITS
//   mailwardenctl [-c FILE] accounts | hold LOGIN | release LOGIN [--run]
// Each subcommand lives in commands/<name>.cpp and registers itself with add_<name>_command.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "commands/accounts.hpp"
#include "commands/auth.hpp"
#include "commands/events.hpp"
#include "commands/explain.hpp"
#include "commands/limits.hpp"
#include "commands/spf.hpp"
#include "util/version.hpp"

int main(int argc, char** argv) {
    using namespace mailwarden;
    CLI::App app{"mailwardenctl - events, explanations and checks of mailwarden"};
    app.require_subcommand(1);
    std::string config_path = "/etc/mailwarden/mailwarden.yaml";
    app.add_option("-c,--config", config_path, "the daemon's configuration file")
        ->capture_default_str();
    app.set_version_flag("-V,--version", fmt::format("mailwardenctl {}", kVersion));
    ctl::add_events_command(app, config_path);
    ctl::add_explain_command(app);
    ctl::add_spf_command(app);
    ctl::add_auth_command(app);
    ctl::add_accounts_commands(app, config_path);
    ctl::add_limits_commands(app, config_path);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    return 0;
}
