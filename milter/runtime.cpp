#include "milter/runtime.hpp"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "auth/spf/result.hpp"
#include "dns/static_resolver.hpp"
#include "dns/unbound_resolver.hpp"
#include "policy/checks/access_list_check.hpp"
#include "policy/checks/spf_check.hpp"

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

// A relative path in the config is relative to the config file's directory.
std::filesystem::path beside_config(const config::Config& config, const std::string& path) {
    std::filesystem::path p(path);
    if (p.is_absolute() || config.source.empty()) {
        return p;
    }
    return std::filesystem::path(config.source).parent_path() / p;
}

util::Result<std::shared_ptr<dns::Resolver>> make_resolver(const config::Config& config) {
    if (!config.dns.zone_file.empty()) {
        auto zone = std::make_shared<dns::StaticResolver>();
        const auto path = beside_config(config, config.dns.zone_file);
        if (auto loaded = zone->load_file(path); !loaded) {
            return util::fail(
                util::ErrorCode::Config,
                fmt::format("dns.zone_file {}: {}", path.string(), loaded.error().describe()));
        }
        spdlog::warn("DNS answers come from the static zone {}, not from the network",
                     path.string());
        return std::shared_ptr<dns::Resolver>(std::move(zone));
    }
    dns::UnboundOptions o;
    o.query_timeout = config.dns.timeout;
    o.forwarders = config.dns.forwarders;
    o.resolv_conf = config.dns.resolv_conf;
    o.trust_anchor_file = config.dns.trust_anchor;
    auto resolver = dns::UnboundResolver::create(o);
    if (!resolver) {
        return util::fail(util::ErrorCode::Config, "dns: " + resolver.error().describe());
    }
    return std::shared_ptr<dns::Resolver>(std::move(*resolver));
}

policy::SpfCheckSettings spf_settings(const config::Config& config, const std::string& host) {
    const auto& c = config.spf;
    policy::SpfCheckSettings s;
    s.check_outbound = c.check_outbound;
    s.check_helo = c.check_helo;
    s.result_cache_ttl = std::chrono::duration_cast<std::chrono::seconds>(c.result_cache_ttl);
    s.result_cache_max_entries = c.result_cache_max_entries;
    s.defer_fail_to_dmarc = c.defer_fail_to_dmarc;
    s.warn_only = c.warn_only;
    s.add_received_spf_header = c.add_received_spf_header;
    s.authserv_id = c.authserv_id.empty() ? host : c.authserv_id;
    s.time_limit = c.time_limit;
    s.actions.clear();
    for (const auto& [name, action] : c.actions) {
        if (auto result = auth::spf::parse_result(name)) {
            s.actions[*result] = action;
        }
    }
    return s;
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
    if (config->spf.enabled) {
        auto resolver = make_resolver(*config);
        if (!resolver) {
            return std::unexpected(resolver.error());
        }
        checks.push_back(
            std::make_shared<policy::SpfCheck>(*resolver, std::make_shared<util::SystemClock>(),
                                               spf_settings(*config, runtime->hostname)));
    }
    runtime->pipeline = std::make_shared<policy::Pipeline>(std::move(checks));
    runtime->config = std::move(config);
    return std::shared_ptr<const Runtime>(std::move(runtime));
}

}  // namespace mailwarden::milter
