// rules_from_config.hpp - the rate-limit rules of a config, built and validated the same way
// for the daemon and for mailwardenctl (limits, --dry-run, override).
#pragma once

#include <vector>

#include "config/config.hpp"
#include "ratelimit/rule.hpp"
#include "util/error.hpp"

namespace mailwarden::ratelimit {

/// The rules of `ratelimit.rules`, validated (validate_rules). Config errors name the rule
/// and, for a bad value, its file:line:col.
util::Result<std::vector<Rule>> rules_from_config(const config::RateLimitConfig& config);

}  // namespace mailwarden::ratelimit
