// admin_json.hpp - JSON forms of accounts, overrides and bucket requests/usages, shared by
// the daemon's control API and mailwardenctl (`--json` output and the loopback protocol).
// Times are integer milliseconds since the Unix epoch ("..._ms"); from_json functions take
// what to_json gives and return InvalidInput for anything else. Pure; thread-safe.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "ratelimit/bucket.hpp"
#include "store/account_store.hpp"
#include "store/override_store.hpp"
#include "util/error.hpp"

namespace mailwarden::store {

nlohmann::json to_json(const AccountSnapshot& account);
util::Result<AccountSnapshot> account_from_json(const nlohmann::json& json);

nlohmann::json to_json(const HoldInfo& hold);
util::Result<HoldInfo> hold_from_json(const nlohmann::json& json);

nlohmann::json to_json(const LimitOverride& o);
util::Result<LimitOverride> override_from_json(const nlohmann::json& json);

nlohmann::json to_json(const ratelimit::BucketRequest& request);
util::Result<ratelimit::BucketRequest> request_from_json(const nlohmann::json& json);

nlohmann::json to_json(const ratelimit::BucketUsage& usage);
util::Result<ratelimit::BucketUsage> usage_from_json(const nlohmann::json& json);

}  // namespace mailwarden::store
