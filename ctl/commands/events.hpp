// events.hpp - `mailwardenctl events`: recent events, filtered, as a table or JSON.
#pragma once

#include <CLI/CLI.hpp>

namespace mailwarden::ctl {

/// Registers `events` on `app`. `config_path` is the global -c option's storage.
void add_events_command(CLI::App& app, const std::string& config_path);

}  // namespace mailwarden::ctl
