// logging.hpp - sets up spdlog for the daemon and the CLI: stderr or syslog, one level.
//
// Lines that concern a message start with its queue id ("4Xy2...: " or "NOQUEUE: "), as
// Postfix's own lines do, so `grep QUEUEID maillog` shows the milter's view too.
#pragma once

#include <string_view>

#include "config/config.hpp"

namespace mailwarden::log {

/// Replaces the default logger. Safe to call again on reload (level/target change).
void setup(const config::LogConfig& config);

/// Sets only the level ("trace" ... "error"); unknown names mean "info".
void set_level(std::string_view level);

}  // namespace mailwarden::log
