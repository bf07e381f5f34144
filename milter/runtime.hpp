// runtime.hpp - everything built from one config snapshot that sessions use. A reload
// builds a new Runtime and swaps it in atomically; a message keeps the snapshot it
// started with.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "policy/pipeline.hpp"
#include "store/account_store.hpp"
#include "store/bucket_store.hpp"
#include "store/override_store.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

namespace mailwarden::milter {

/// What lives as long as the process, across reloads: the event store and the rate-limit
/// buckets (so a reload never resets anyone's usage).
struct Backends {
    std::shared_ptr<store::Store> store;
    std::shared_ptr<store::BucketStore> buckets;
    /// Per-login state of the compromised-account detector (Redis or memory).
    std::shared_ptr<store::AccountStore> accounts;
    /// Per-login rate-limit overrides set with mailwardenctl (Redis or memory).
    std::shared_ptr<store::OverrideStore> overrides;
};

/// Opens the backends the config names: Redis (connected lazily, on first use) with a local
/// fallback for the buckets, or memory.
Backends make_backends(const config::Config& config);

struct Runtime {
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const policy::Pipeline> pipeline;
    std::string hostname;  ///< for headers and events
};

/// Builds the checks of `config` into a Runtime. Errors name the check (and for rate-limit
/// rules the file:line:col) that failed. Without backends, rate-limit rules are an error.
util::Result<std::shared_ptr<const Runtime>> build_runtime(
    std::shared_ptr<const config::Config> config, const Backends& backends = {});

}  // namespace mailwarden::milter
