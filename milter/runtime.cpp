#include "milter/runtime.hpp"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "auth/dmarc/evaluator.hpp"
#include "auth/spf/record_cache.hpp"
#include "auth/spf/result.hpp"
#include "dns/static_resolver.hpp"
#include "dns/unbound_resolver.hpp"
#include "policy/checks/access_list_check.hpp"
#include "policy/checks/account_check.hpp"
#include "policy/checks/auth_results_check.hpp"
#include "policy/checks/bounce_check.hpp"
#include "policy/checks/dkim_check.hpp"
#include "policy/checks/dmarc_check.hpp"
#include "policy/checks/preflight_check.hpp"
#include "policy/checks/ratelimit_check.hpp"
#include "policy/checks/spf_check.hpp"
#include "policy/outgoing_failure.hpp"
#include "ratelimit/account_detector.hpp"
#include "ratelimit/override_cache.hpp"
#include "ratelimit/rule.hpp"
#include "ratelimit/rules_from_config.hpp"
#include "store/fallback_buckets.hpp"
#include "store/memory_accounts.hpp"
#include "store/memory_buckets.hpp"
#include "store/memory_store.hpp"
#include "store/options_from_config.hpp"
#include "store/redis_accounts.hpp"
#include "store/redis_buckets.hpp"
#include "store/redis_overrides.hpp"
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

util::Result<std::shared_ptr<const auth::dmarc::Evaluator>> make_dmarc(const config::Config& config,
                                                                       dns::Resolver& resolver) {
    auth::dmarc::Options o;
    if (config.dmarc.org_domain_method == "psl") {
        o.method = auth::dmarc::OrgDomainMethod::PublicSuffixList;
        o.psl_file = beside_config(config, config.dmarc.psl_file);
    }
    std::string error;
    auto evaluator = auth::dmarc::Evaluator::create(resolver, o, &error);
    if (!evaluator) {
        return util::fail(util::ErrorCode::Config, "dmarc: " + error);
    }
    return std::shared_ptr<const auth::dmarc::Evaluator>(
        std::make_shared<auth::dmarc::Evaluator>(std::move(*evaluator)));
}

policy::DmarcEnforcement enforcement(config::DmarcAction a) {
    switch (a) {
        case config::DmarcAction::None:
            return policy::DmarcEnforcement::None;
        case config::DmarcAction::Tag:
            return policy::DmarcEnforcement::Tag;
        case config::DmarcAction::Quarantine:
            return policy::DmarcEnforcement::Quarantine;
        case config::DmarcAction::Reject:
            return policy::DmarcEnforcement::Reject;
    }
    return policy::DmarcEnforcement::None;
}

// An SPF evaluator with the resolver, clock and record cache it refers to (pinned in
// place: the evaluator holds their addresses), for the preflight.
class OwnedSpfEvaluator {
  public:
    OwnedSpfEvaluator(std::shared_ptr<dns::Resolver> resolver, auth::spf::Options options)
        : resolver_(std::move(resolver)),
          evaluator_(*resolver_, clock_, std::move(options), &cache_) {}
    OwnedSpfEvaluator(const OwnedSpfEvaluator&) = delete;
    OwnedSpfEvaluator& operator=(const OwnedSpfEvaluator&) = delete;
    const auth::spf::Evaluator& evaluator() const { return evaluator_; }

  private:
    std::shared_ptr<dns::Resolver> resolver_;
    util::SystemClock clock_;
    auth::spf::RecordCache cache_{clock_, 10'000};
    auth::spf::Evaluator evaluator_;
};

std::shared_ptr<const auth::spf::Evaluator> make_spf_evaluator(
    std::shared_ptr<dns::Resolver> resolver, const config::Config& config) {
    auth::spf::Options o;
    o.time_limit = config.spf.time_limit;
    auto owned = std::make_shared<OwnedSpfEvaluator>(std::move(resolver), o);
    return std::shared_ptr<const auth::spf::Evaluator>(owned, &owned->evaluator());
}

// The account and override stores of the config's backend (on Redis they keep their
// RedisStore alive).
void make_account_backends(const config::Config& config, Backends& b) {
    if (auto redis = std::dynamic_pointer_cast<store::RedisStore>(b.store)) {
        struct Owned {
            std::shared_ptr<store::RedisStore> redis;
            store::RedisAccountStore accounts;
            store::RedisOverrideStore overrides;
        };
        auto owned = std::make_shared<Owned>(
            Owned{redis, store::RedisAccountStore(*redis), store::RedisOverrideStore(*redis)});
        b.accounts = std::shared_ptr<store::AccountStore>(owned, &owned->accounts);
        b.overrides = std::shared_ptr<store::OverrideStore>(owned, &owned->overrides);
        return;
    }
    store::MemoryAccountOptions o;
    o.max_accounts = config.accounts.local_max_accounts;
    b.accounts = std::make_shared<store::MemoryAccountStore>(o);
    b.overrides = std::make_shared<store::MemoryOverrideStore>();
}

constexpr const char* kSystemCatalog = "/etc/mailwarden/explanations.yaml";

// Feeds the hard bounces the bounce check finds to the compromised-account detector (the
// login that last sent as the bounced sender), and names that login in the event.
// XXX: the store round trip runs on the DSN's milter thread, against the sink's "never
// block" wish; a DSN is the MTA's own mail, so only that bounce waits (at most the store's
// command timeout), never an SMTP client. A queue of its own would lift it.
class AccountBounceFeed final : public policy::OutgoingFailureSink {
  public:
    AccountBounceFeed(std::shared_ptr<store::AccountStore> accounts,
                      store::AccountTracking tracking)
        : accounts_(std::move(accounts)), tracking_(tracking) {}

    void on_outgoing_failure(const policy::OutgoingFailure& failure) noexcept override {
        if (!failure.permanent || failure.original_sender.empty()) {
            return;
        }
        const auto fed = ratelimit::record_outgoing_failures(
            *accounts_, failure.original_sender, 1, tracking_, std::chrono::system_clock::now());
        if (!fed) {
            spdlog::warn("bounce: cannot record the hard bounce for {}: {}",
                         failure.original_sender, fed.error().describe());
        }
    }

    std::string login_of(std::string_view sender) const {
        auto login = accounts_->login_of(sender, std::chrono::system_clock::now());
        return login && *login ? **login : std::string();
    }

  private:
    std::shared_ptr<store::AccountStore> accounts_;
    store::AccountTracking tracking_;
};

// The bounce check, or null when it is off or (default catalog only) no catalog exists.
util::Result<policy::CheckPtr> make_bounce_check(const config::Config& config,
                                                 std::shared_ptr<AccountBounceFeed> account_feed) {
    const auto& c = config.bounce;
    if (!c.enabled) {
        return policy::CheckPtr{};
    }
    std::filesystem::path path;
    std::error_code ec;
    if (!c.catalog.empty()) {
        path = beside_config(config, c.catalog);
    } else if (std::filesystem::exists(kSystemCatalog, ec)) {
        path = kSystemCatalog;
    }
#ifdef MW_DEFAULT_CATALOG
    else if (std::filesystem::exists(MW_DEFAULT_CATALOG, ec)) {
        path = MW_DEFAULT_CATALOG;
    }
#endif
    if (path.empty()) {
        spdlog::warn(
            "bounce: no explanation catalog ({} not found): bounces pass unexplained; "
            "set bounce.catalog",
            kSystemCatalog);
        return policy::CheckPtr{};
    }
    auto catalog = explain::Catalog::load_file(path);
    if (!catalog) {
        return util::fail(util::ErrorCode::Config,
                          fmt::format("bounce.catalog: {}", catalog.error().describe()));
    }
    policy::BounceCheckSettings s;
    s.rewrite = c.rewrite;
    s.max_bytes = static_cast<std::size_t>(c.max_bytes);
    s.header_name = c.header_name;
    if (account_feed) {
        s.login_for_sender = [account_feed](std::string_view sender) {
            return account_feed->login_of(sender);
        };
        s.sink = std::move(account_feed);
    }
    return policy::CheckPtr(std::make_shared<policy::BounceCheck>(
        std::make_shared<const explain::Catalog>(std::move(*catalog)), std::move(s)));
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
    make_account_backends(config, b);
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
        auto rules = ratelimit::rules_from_config(config->ratelimit);
        if (!rules) {
            return std::unexpected(rules.error());
        }
        auto buckets = backends.buckets;
        auto overrides = backends.overrides;
        if (!buckets) {
            auto made = make_backends(*config);  // validation only (--check-config)
            buckets = made.buckets;
            overrides = made.overrides;
        }
        auto cache = overrides ? std::make_shared<ratelimit::OverrideCache>(
                                     overrides, config->ratelimit.override_refresh)
                               : nullptr;
        checks.push_back(std::make_shared<policy::RateLimitCheck>(
            std::move(buckets), std::move(*rules), std::make_shared<util::SystemClock>(),
            std::move(cache)));
    }
    std::shared_ptr<AccountBounceFeed> account_feed;
    if (config->accounts.enabled) {
        auto settings = policy::account_check_settings(config->accounts);
        if (!settings) {
            return util::fail(util::ErrorCode::Config, "accounts: " + settings.error().message);
        }
        auto accounts = backends.accounts;
        if (!accounts) {
            accounts = make_backends(*config).accounts;  // validation only (--check-config)
        }
        account_feed = std::make_shared<AccountBounceFeed>(accounts, settings->tracking);
        // First among the checks that see RCPT, so it counts every recipient tried.
        checks.insert(checks.begin(), std::make_shared<policy::AccountCheck>(
                                          std::move(accounts), std::move(*settings),
                                          std::make_shared<util::SystemClock>()));
    }
    const bool preflight = config->preflight.enabled;
    const bool any_auth =
        config->spf.enabled || config->dkim.enabled || config->dmarc.enabled || preflight;
    std::shared_ptr<dns::Resolver> resolver;
    std::shared_ptr<const auth::dmarc::Evaluator> dmarc;
    if (any_auth) {
        auto made = make_resolver(*config);
        if (!made) {
            return std::unexpected(made.error());
        }
        resolver = std::move(*made);
    }
    if (config->dmarc.enabled || preflight) {
        auto made = make_dmarc(*config, *resolver);
        if (!made) {
            return std::unexpected(made.error());
        }
        dmarc = std::move(*made);
    }
    const std::string authserv_id = !config->authentication_results.authserv_id.empty()
                                        ? config->authentication_results.authserv_id
                                        : runtime->hostname;
    if (config->spf.enabled) {
        auto settings = spf_settings(*config, runtime->hostname);
        if (config->spf.authserv_id.empty()) {
            settings.authserv_id = authserv_id;
        }
        checks.push_back(std::make_shared<policy::SpfCheck>(
            resolver, std::make_shared<util::SystemClock>(), std::move(settings),
            config->dmarc.enabled ? dmarc : nullptr));
    }
    if (config->dkim.enabled) {
        policy::DkimCheckSettings s;
        s.check_outbound = config->dkim.check_outbound;
        s.verifier.max_signatures = config->dkim.max_signatures;
        s.verifier.min_rsa_bits = config->dkim.min_rsa_bits;
        s.verifier.allow_rsa_sha1 = config->dkim.allow_rsa_sha1;
        checks.push_back(std::make_shared<policy::DkimCheck>(
            resolver, std::make_shared<util::SystemClock>(), s));
    }
    if (config->dmarc.enabled) {
        policy::DmarcCheckSettings s;
        s.check_outbound = config->dmarc.check_outbound;
        s.on_reject = enforcement(config->dmarc.on_reject);
        s.on_quarantine = enforcement(config->dmarc.on_quarantine);
        s.on_temperror = config->dmarc.on_temperror;
        s.warn_only = config->dmarc.warn_only;
        checks.push_back(std::make_shared<policy::DmarcCheck>(dmarc, s));
    }
    if (preflight) {
        auth::PreflightSettings site;
        site.outbound_ips = config->outbound_ips;
        site.dkim_signing_domains = config->dkim_signing_domains;
        policy::PreflightCheckSettings s;
        s.action = config->preflight.action == config::PreflightAction::Reject
                       ? policy::PreflightAction::Reject
                   : config->preflight.action == config::PreflightAction::Header
                       ? policy::PreflightAction::Header
                       : policy::PreflightAction::Warn;
        s.header_name = config->preflight.header_name;
        checks.push_back(std::make_shared<policy::PreflightCheck>(
            dmarc, make_spf_evaluator(resolver, *config), std::move(site), std::move(s)));
    }
    if (config->authentication_results.enabled && any_auth) {
        policy::AuthResultsSettings s;
        s.authserv_id = authserv_id;
        s.remove_forged = config->authentication_results.remove_forged;
        checks.push_back(std::make_shared<policy::AuthResultsCheck>(std::move(s)));
    }
    if (auto bounce = make_bounce_check(*config, std::move(account_feed)); !bounce) {
        return std::unexpected(bounce.error());
    } else if (*bounce) {
        checks.push_back(std::move(*bounce));
    }
    runtime->pipeline = std::make_shared<policy::Pipeline>(std::move(checks));
    runtime->config = std::move(config);
    return std::shared_ptr<const Runtime>(std::move(runtime));
}

}  // namespace mailwarden::milter
