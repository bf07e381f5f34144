// runtime.hpp - everything built from one config snapshot that sessions use. A reload
// builds a new Runtime and swaps it in atomically; a message keeps the snapshot it
// started with.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "policy/pipeline.hpp"
#include "util/error.hpp"

namespace mailwarden::milter {

struct Runtime {
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const policy::Pipeline> pipeline;
    std::string hostname;  ///< for headers and events
};

/// Builds the checks of `config` into a Runtime. Errors name the check that failed.
util::Result<std::shared_ptr<const Runtime>> build_runtime(
    std::shared_ptr<const config::Config> config);

}  // namespace mailwarden::milter
