// control_admin.hpp - the account and rate-limit part of the daemon's control API, for
// mailwardenctl when the state lives in the daemon's embedded store (with Redis, ctl talks
// to Redis directly):
//   GET  /v1/accounts?limit=N              held accounts
//   GET  /v1/account?login=L               one account (null when untracked)
//   GET  /v1/overrides                     the store's rate-limit overrides
//   POST /v1/buckets/peek                  {"requests":[...]}: usage, charging nothing
//   POST /v1/accounts/hold                 {"login","by","reason"}
//   POST /v1/accounts/release              {"login","by","grace_ms"}
//   POST /v1/overrides                     {"rule","login","limits","by"} (set)
//   POST /v1/overrides/remove              {"rule","login"}
// The POST routes change state: they answer only clients on a loopback address and only
// bodies sent as application/json (which a web page cannot send cross-origin without a
// preflight), whatever address the API listens on; anything else gets 403 or 415.
#pragma once

#include <functional>
#include <memory>

#include "store/account_store.hpp"
#include "store/bucket_store.hpp"
#include "store/override_store.hpp"

namespace httplib {
class Server;
}

namespace mailwarden::milter {

/// What the admin routes work on; `tracking` gives the current config's account tracking.
struct AdminBackends {
    std::shared_ptr<store::AccountStore> accounts;
    std::shared_ptr<store::OverrideStore> overrides;
    std::shared_ptr<store::BucketStore> buckets;
    std::function<store::AccountTracking()> tracking;
};

/// Adds the routes above to `server`.
void add_admin_routes(httplib::Server& server, AdminBackends backends);

/// True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z.
bool is_loopback_address(std::string_view address);

}  // namespace mailwarden::milter
