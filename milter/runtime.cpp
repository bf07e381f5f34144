#include "milter/runtime.hpp"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "auth/spf/result.hpp"
#include "dns/static_resolver.hpp"
#include "dns/unbound_resolver.hpp"
#include "policy/checks/access_list_check.hpp"
#include "policy/checks/ratelimit_check.hpp"
#include "policy/checks/spf_check.hpp"
#include "ratelimit/rule.hpp"
#include "store/fallback_buckets.hpp"
#include "store/memory_buckets.hpp"
#include "store/memory_store.hpp"
#include "store/options_from_config.hpp"
#include "store/redis_buckets.hpp"
#include "store/redis_store.hpp"

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

// Redis buckets that fall back to a local limiter; owns the chain it builds.
class OwnedFallbackBuckets final : public store::BucketStore {
  public:
    OwnedFallbackBuckets(std::shared_ptr<store::RedisStore> redis,
                         store::FallbackBucketOptions options)
        : redis_(std::move(redis)), shared_(*redis_), fallback_(shared_, std::move(options)) {}
    std::string_view kind() const override { return fallback_.kind(); }
    util::Result<ratelimit::BucketOutcome> check_and_consume(
        std::span<const ratelimit::BucketRequest> requests, util::SystemTime now) override {
        return fallback_.check_and_consume(requests, now);
    }
    util::Result<std::vector<ratelimit::BucketUsage>> peek(
        std::span<const ratelimit::BucketRequest> requests, util::SystemTime now) override {
        return fallback_.peek(requests, now);
    }

  private:
    std::shared_ptr<store::RedisStore> redis_;
    store::RedisBucketStore shared_;
    store::FallbackBucketStore fallback_;
};

util::Result<ratelimit::Rule> rate_rule(const config::RateRuleConfig& c) {
    auto fail = [&](const util::Error& e) {
        util::Error out{util::ErrorCode::Config,
                        fmt::format("ratelimit rule '{}': {}", c.name, e.message), c.where};
        return std::unexpected(out);
    };
    ratelimit::Rule rule;
    rule.name = c.name;
    auto key = ratelimit::parse_key(c.key);
    if (!key)
        return fail(key.error());
    rule.key = *key;
    auto counts = ratelimit::parse_counts(c.counts);
    if (!counts)
        return fail(counts.error());
    rule.counts = *counts;
    auto scope = ratelimit::parse_scope(c.scope);
    if (!scope)
        return fail(scope.error());
    rule.scope = *scope;
    auto action = ratelimit::parse_action(c.action);
    if (!action)
        return fail(action.error());
    rule.action = *action;
    for (const auto& text : c.limits) {
        auto w = ratelimit::parse_rate(text);
        if (!w)
            return fail(w.error());
        rule.windows.push_back(*w);
    }
    rule.exempt_logins = c.exempt_logins;
    rule.exempt_networks = c.exempt_networks;
    for (const auto& [login, limits] : c.overrides) {
        std::vector<ratelimit::Window> windows;
        for (const auto& text : limits) {
            auto w = ratelimit::parse_rate(text);
            if (!w)
                return fail(w.error());
            windows.push_back(*w);
        }
        rule.overrides[login] = std::move(windows);
    }
    return rule;
}

}  // namespace

Backends make_backends(const config::Config& config) {
    Backends b;
    store::MemoryBucketOptions local;
    local.max_entries = config.ratelimit.local_max_buckets;
    if (config.store.backend == config::StoreBackend::Redis) {
        auto redis = std::make_shared<store::RedisStore>(store::redis_options(config));
        store::FallbackBucketOptions fo;
        fo.retry_interval = config.ratelimit.fallback_retry;
        fo.local = local;
        b.buckets = std::make_shared<OwnedFallbackBuckets>(redis, fo);
        b.store = std::move(redis);
    } else {
        store::MemoryStoreOptions o;
        o.event_capacity = config.store.memory_max_events;
        b.store = std::make_shared<store::MemoryStore>(o);
        b.buckets = std::make_shared<store::MemoryBucketStore>(local);
    }
    return b;
}

util::Result<std::shared_ptr<const Runtime>> build_runtime(
    std::shared_ptr<const config::Config> config, const Backends& backends) {
    std::vector<policy::CheckPtr> checks;
    if (!config->access_list.empty()) {
        checks.push_back(std::make_shared<policy::AccessListCheck>(config->access_list));
    }
    auto runtime = std::make_shared<Runtime>();
    runtime->hostname = host_name(*config);
    if (!config->ratelimit.rules.empty()) {
        std::vector<ratelimit::Rule> rules;
        for (const auto& c : config->ratelimit.rules) {
            auto rule = rate_rule(c);
            if (!rule) {
                return std::unexpected(rule.error());
            }
            rules.push_back(std::move(*rule));
        }
        if (auto valid = ratelimit::validate_rules(rules); !valid) {
            return util::fail(util::ErrorCode::Config, "ratelimit: " + valid.error().message);
        }
        auto buckets = backends.buckets;
        if (!buckets) {
            buckets = make_backends(*config).buckets;  // validation only (--check-config)
        }
        checks.push_back(std::make_shared<policy::RateLimitCheck>(
            std::move(buckets), std::move(rules), std::make_shared<util::SystemClock>()));
    }
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
