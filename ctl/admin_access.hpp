// admin_access.hpp - how mailwardenctl reaches accounts, overrides and rate-limit buckets:
// Redis directly when the config uses it, otherwise the running daemon's control API on
// loopback (the embedded store lives in the daemon; its admin routes are POST, loopback
// only). Both give the same store interfaces, so each command is written once.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "store/account_store.hpp"
#include "store/bucket_store.hpp"
#include "store/override_store.hpp"
#include "util/error.hpp"

namespace mailwarden::ctl {

/// The admin's view of the state of the config's store. The account store answers get,
/// held, hold and release (record, record_bounces and login_of are the daemon's; over the
/// control API they are Unavailable); the bucket store answers peek only.
struct Admin {
    config::Config config;
    std::string where;  ///< "redis 127.0.0.1:6379" or "the daemon's control API at ..."
    std::shared_ptr<store::AccountStore> accounts;
    std::shared_ptr<store::OverrideStore> overrides;
    std::shared_ptr<store::BucketStore> buckets;
    std::shared_ptr<void> owner;  ///< keeps the connection the stores use alive
};

/// Loads the config at `config_path` and opens its state.
util::Result<Admin> open_admin(const std::string& config_path);

/// "admin:USER" for the user running mailwardenctl (from the password database, else $USER).
std::string admin_name();

}  // namespace mailwarden::ctl
