// admin_access.cpp - the store interfaces over Redis, or over the daemon's control API.
#include "admin_access.hpp"

#include <httplib.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "store/admin_json.hpp"
#include "store/options_from_config.hpp"
#include "store/redis_accounts.hpp"
#include "store/redis_buckets.hpp"
#include "store/redis_overrides.hpp"
#include "store/redis_store.hpp"

namespace mailwarden::ctl {

namespace {

using nlohmann::json;
using util::ErrorCode;

// JSON requests to the daemon's control API.
class DaemonClient {
  public:
    DaemonClient(std::string host, int port) : host_(std::move(host)), port_(port) {}
    std::string describe() const {
        return fmt::format("the daemon's control API at {}:{}", host_, port_);
    }
    util::Result<json> get(const std::string& path, const httplib::Params& params = {}) const {
        auto client = make();
        return answer(client.Get(path, params, httplib::Headers{}));
    }
    util::Result<json> post(const std::string& path, const json& body) const {
        auto client = make();
        return answer(client.Post(path, body.dump(), "application/json"));
    }

  private:
    httplib::Client make() const {
        httplib::Client client(host_, port_);
        client.set_connection_timeout(std::chrono::seconds(3));
        client.set_read_timeout(std::chrono::seconds(10));
        return client;
    }
    static util::Result<json> answer(const httplib::Result& res) {
        if (!res) {
            return util::fail(ErrorCode::Unavailable,
                              fmt::format("no answer ({}); is mailwarden running with "
                                          "control.enabled?",
                                          httplib::to_string(res.error())));
        }
        auto body = json::parse(res->body, nullptr, false);
        if (res->status != 200) {
            const auto message = body.is_object() ? body.value("error", res->body) : res->body;
            return util::fail(res->status == 400 ? ErrorCode::InvalidInput : ErrorCode::Unavailable,
                              fmt::format("HTTP {}: {}", res->status, message));
        }
        if (body.is_discarded()) {
            return util::fail(ErrorCode::InvalidInput, "the daemon's answer is not JSON");
        }
        return body;
    }

    std::string host_;
    int port_;
};

util::Result<void> daemon_only(std::string_view what) {
    return util::fail(ErrorCode::Unavailable,
                      fmt::format("{} is done by the daemon, not through its control API", what));
}

class DaemonAccounts final : public store::AccountStore {
  public:
    explicit DaemonAccounts(std::shared_ptr<DaemonClient> c) : c_(std::move(c)) {}
    std::string_view kind() const override { return "daemon"; }
    util::Result<store::AccountSnapshot> record(std::string_view, const store::AccountActivity&,
                                                const store::AccountTracking&,
                                                util::SystemTime) override {
        return std::unexpected(daemon_only("recording activity").error());
    }
    util::Result<void> record_bounces(std::string_view, std::uint64_t,
                                      const store::AccountTracking&, util::SystemTime) override {
        return daemon_only("recording bounces");
    }
    util::Result<std::optional<std::string>> login_of(std::string_view, util::SystemTime) override {
        return std::unexpected(daemon_only("login_of").error());
    }
    util::Result<std::optional<store::AccountSnapshot>> get(std::string_view login,
                                                            const store::AccountTracking&,
                                                            util::SystemTime) override {
        auto j = c_->get("/v1/account", {{"login", std::string(login)}});
        if (!j) {
            return std::unexpected(j.error());
        }
        if (j->is_null()) {
            return std::optional<store::AccountSnapshot>{};
        }
        auto a = store::account_from_json(*j);
        if (!a) {
            return std::unexpected(a.error());
        }
        return std::optional<store::AccountSnapshot>(std::move(*a));
    }
    util::Result<bool> hold(std::string_view login, const store::HoldInfo& h,
                            const store::AccountTracking&, util::SystemTime) override {
        auto j = c_->post("/v1/accounts/hold",
                          {{"login", std::string(login)}, {"by", h.by}, {"reason", h.reason}});
        if (!j) {
            return std::unexpected(j.error());
        }
        return j->value("held", false);
    }
    util::Result<std::optional<store::HoldInfo>> release(std::string_view login,
                                                         std::string_view by,
                                                         std::chrono::milliseconds grace,
                                                         const store::AccountTracking&,
                                                         util::SystemTime) override {
        auto j = c_->post(
            "/v1/accounts/release",
            {{"login", std::string(login)}, {"by", std::string(by)}, {"grace_ms", grace.count()}});
        if (!j) {
            return std::unexpected(j.error());
        }
        const auto ended = j->value("ended", json(nullptr));
        if (ended.is_null()) {
            return std::optional<store::HoldInfo>{};
        }
        auto h = store::hold_from_json(ended);
        if (!h) {
            return std::unexpected(h.error());
        }
        return std::optional<store::HoldInfo>(std::move(*h));
    }
    util::Result<std::vector<store::AccountSnapshot>> held(const store::AccountTracking&,
                                                           util::SystemTime,
                                                           std::size_t limit) override {
        auto j = c_->get("/v1/accounts", {{"limit", std::to_string(limit)}});
        if (!j) {
            return std::unexpected(j.error());
        }
        std::vector<store::AccountSnapshot> out;
        for (const auto& item : *j) {
            auto a = store::account_from_json(item);
            if (!a) {
                return std::unexpected(a.error());
            }
            out.push_back(std::move(*a));
        }
        return out;
    }

  private:
    std::shared_ptr<DaemonClient> c_;
};

class DaemonOverrides final : public store::OverrideStore {
  public:
    explicit DaemonOverrides(std::shared_ptr<DaemonClient> c) : c_(std::move(c)) {}
    std::string_view kind() const override { return "daemon"; }
    util::Result<std::vector<store::LimitOverride>> list() override {
        auto j = c_->get("/v1/overrides");
        if (!j) {
            return std::unexpected(j.error());
        }
        std::vector<store::LimitOverride> out;
        for (const auto& item : *j) {
            auto o = store::override_from_json(item);
            if (!o) {
                return std::unexpected(o.error());
            }
            out.push_back(std::move(*o));
        }
        return out;
    }
    util::Result<void> set(const store::LimitOverride& o) override {
        auto j = c_->post("/v1/overrides", store::to_json(o));
        if (!j) {
            return std::unexpected(j.error());
        }
        return {};
    }
    util::Result<bool> remove(std::string_view rule, std::string_view login) override {
        auto j = c_->post("/v1/overrides/remove",
                          {{"rule", std::string(rule)}, {"login", std::string(login)}});
        if (!j) {
            return std::unexpected(j.error());
        }
        return j->value("removed", false);
    }

  private:
    std::shared_ptr<DaemonClient> c_;
};

class DaemonBuckets final : public store::BucketStore {
  public:
    explicit DaemonBuckets(std::shared_ptr<DaemonClient> c) : c_(std::move(c)) {}
    std::string_view kind() const override { return "daemon"; }
    util::Result<ratelimit::BucketOutcome> check_and_consume(
        std::span<const ratelimit::BucketRequest>, util::SystemTime) override {
        return std::unexpected(daemon_only("charging buckets").error());
    }
    util::Result<std::vector<ratelimit::BucketUsage>> peek(
        std::span<const ratelimit::BucketRequest> requests, util::SystemTime) override {
        json list = json::array();
        for (const auto& r : requests) {
            list.push_back(store::to_json(r));
        }
        auto j = c_->post("/v1/buckets/peek", {{"requests", list}});
        if (!j) {
            return std::unexpected(j.error());
        }
        std::vector<ratelimit::BucketUsage> out;
        for (const auto& item : j->value("usages", json::array())) {
            auto u = store::usage_from_json(item);
            if (!u) {
                return std::unexpected(u.error());
            }
            out.push_back(std::move(*u));
        }
        return out;
    }

  private:
    std::shared_ptr<DaemonClient> c_;
};

// The Redis stores and the RedisStore they share.
struct RedisAdmin {
    explicit RedisAdmin(store::RedisOptions o)
        : redis(std::move(o)), accounts(redis), overrides(redis), buckets(redis) {}
    store::RedisStore redis;
    store::RedisAccountStore accounts;
    store::RedisOverrideStore overrides;
    store::RedisBucketStore buckets;
};

}  // namespace

util::Result<Admin> open_admin(const std::string& config_path) {
    auto loaded = config::load_file(config_path);
    if (!loaded) {
        return util::fail(ErrorCode::Config,
                          "invalid configuration:\n" + config::describe(loaded.error()));
    }
    Admin admin;
    admin.config = std::move(*loaded);
    const auto& c = admin.config;
    if (c.store.backend == config::StoreBackend::Redis) {
        store::RedisOptions o = store::redis_options(c);
        o.command_timeout =
            std::max(c.store.redis.command_timeout, std::chrono::milliseconds(5000));
        o.pool_size = 1;
        admin.where = c.store.redis.unix_socket.empty() ? fmt::format("redis {}:{}", o.host, o.port)
                                                        : fmt::format("redis {}", o.unix_socket);
        auto owned = std::make_shared<RedisAdmin>(o);
        admin.accounts = std::shared_ptr<store::AccountStore>(owned, &owned->accounts);
        admin.overrides = std::shared_ptr<store::OverrideStore>(owned, &owned->overrides);
        admin.buckets = std::shared_ptr<store::BucketStore>(owned, &owned->buckets);
        admin.owner = owned;
        return admin;
    }
    if (!c.control.enabled) {
        return util::fail(ErrorCode::Config,
                          "accounts and limits are in the daemon's embedded store and "
                          "control.enabled is false: enable the control API or use "
                          "store.backend: redis");
    }
    auto client = std::make_shared<DaemonClient>(c.control.host, c.control.port);
    admin.where = client->describe();
    admin.accounts = std::make_shared<DaemonAccounts>(client);
    admin.overrides = std::make_shared<DaemonOverrides>(client);
    admin.buckets = std::make_shared<DaemonBuckets>(client);
    admin.owner = client;
    return admin;
}

std::string admin_name() {
    if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_name != nullptr) {
        return fmt::format("admin:{}", pw->pw_name);
    }
    const char* user = std::getenv("USER");
    return fmt::format("admin:{}", user != nullptr ? user : "unknown");
}

}  // namespace mailwarden::ctl
