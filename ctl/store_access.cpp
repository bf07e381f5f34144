#include "store_access.hpp"

#include <httplib.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "store/options_from_config.hpp"
#include "store/redis_store.hpp"

namespace mailwarden::ctl {

namespace {

class StoreSource final : public EventSource {
  public:
    StoreSource(std::unique_ptr<store::Store> store, std::string where)
        : store_(std::move(store)), where_(std::move(where)) {}
    std::string describe() const override { return where_; }
    util::Result<std::vector<store::Event>> query(const store::EventQuery& q) override {
        return store_->query_events(q);
    }

  private:
    std::unique_ptr<store::Store> store_;
    std::string where_;
};

class DaemonSource final : public EventSource {
  public:
    DaemonSource(std::string host, int port) : host_(std::move(host)), port_(port) {}
    std::string describe() const override {
        return fmt::format("the daemon's control API at {}:{}", host_, port_);
    }
    util::Result<std::vector<store::Event>> query(const store::EventQuery& q) override {
        httplib::Params params;
        if (q.sender)
            params.emplace("sender", *q.sender);
        if (q.login)
            params.emplace("login", *q.login);
        if (q.code)
            params.emplace("code", *q.code);
        if (q.queue_id)
            params.emplace("queue_id", *q.queue_id);
        if (q.since)
            params.emplace("since_ms", std::to_string(store::to_unix_ms(*q.since)));
        if (q.until)
            params.emplace("until_ms", std::to_string(store::to_unix_ms(*q.until)));
        params.emplace("limit", std::to_string(q.limit));
        httplib::Client client(host_, port_);
        client.set_connection_timeout(std::chrono::seconds(3));
        client.set_read_timeout(std::chrono::seconds(10));
        auto res = client.Get("/v1/events", params, httplib::Headers{});
        if (!res) {
            return util::fail(util::ErrorCode::Unavailable,
                              fmt::format("no answer ({}); is mailwarden running with "
                                          "control.enabled?",
                                          httplib::to_string(res.error())));
        }
        if (res->status != 200) {
            return util::fail(util::ErrorCode::Unavailable,
                              fmt::format("HTTP {}: {}", res->status, res->body));
        }
        std::vector<store::Event> events;
        const auto json = nlohmann::json::parse(res->body, nullptr, false);
        if (!json.is_array()) {
            return util::fail(util::ErrorCode::InvalidInput, "the daemon sent no event list");
        }
        for (const auto& item : json) {
            auto e = store::from_json(item);
            if (!e) {
                return std::unexpected(e.error());
            }
            events.push_back(std::move(*e));
        }
        return events;
    }

  private:
    std::string host_;
    int port_;
};

}  // namespace

util::Result<std::unique_ptr<EventSource>> open_event_source(const std::string& config_path) {
    auto loaded = config::load_file(config_path);
    if (!loaded) {
        return util::fail(util::ErrorCode::Config,
                          "invalid configuration:\n" + config::describe(loaded.error()));
    }
    const auto& c = *loaded;
    if (c.store.backend == config::StoreBackend::Redis) {
        // Reading may scan a long stream: allow more than the daemon's SMTP-path timeout.
        store::RedisOptions o = store::redis_options(c);
        o.command_timeout =
            std::max(c.store.redis.command_timeout, std::chrono::milliseconds(5000));
        o.pool_size = 1;
        const auto where = c.store.redis.unix_socket.empty()
                               ? fmt::format("redis {}:{}", o.host, o.port)
                               : fmt::format("redis {}", o.unix_socket);
        return std::unique_ptr<EventSource>(
            std::make_unique<StoreSource>(std::make_unique<store::RedisStore>(o), where));
    }
    if (!c.control.enabled) {
        return util::fail(util::ErrorCode::Config,
                          "the events are in the daemon's embedded store and control.enabled "
                          "is false: enable the control API or use store.backend: redis");
    }
    return std::unique_ptr<EventSource>(
        std::make_unique<DaemonSource>(c.control.host, c.control.port));
}

}  // namespace mailwarden::ctl
