#include "milter/runtime.hpp"

#include <unistd.h>

#include "policy/checks/access_list_check.hpp"

namespace mailwarden::milter {

namespace {

std::string host_name(const config::Config& config) {
    if (!config.hostname.empty()) {
        return config.hostname;
    }
    char buffer[256] = {};
    if (gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') {
        return "localhost";
    }
    return buffer;
}

}  // namespace

util::Result<std::shared_ptr<const Runtime>> build_runtime(
    std::shared_ptr<const config::Config> config) {
    std::vector<policy::CheckPtr> checks;
    if (!config->access_list.empty()) {
        checks.push_back(std::make_shared<policy::AccessListCheck>(config->access_list));
    }
    auto runtime = std::make_shared<Runtime>();
    runtime->hostname = host_name(*config);
    runtime->pipeline = std::make_shared<policy::Pipeline>(std::move(checks));
    runtime->config = std::move(config);
    return std::shared_ptr<const Runtime>(std::move(runtime));
}

}  // namespace mailwarden::milter
