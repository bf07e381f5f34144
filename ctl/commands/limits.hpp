// limits.hpp - `mailwardenctl limits [KEY] [--dry-run]` (the rate-limit rules, the current
// usage of the buckets a key touches, and what would happen to its next message, and why)
// and `mailwardenctl override LOGIN RULE LIMITS` (a per-login override in the store).
#pragma once

#include <CLI/CLI.hpp>

namespace mailwarden::ctl {

/// Registers `limits` and `override` on `app`.
void add_limits_commands(CLI::App& app, const std::string& config_path);

}  // namespace mailwarden::ctl
