#include "milter/control_server.hpp"

#include <httplib.h>

#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace mailwarden::milter {

namespace {

constexpr std::size_t kMaxEventsPerRequest = 10'000;

std::optional<std::int64_t> int_param(const httplib::Request& req, const char* name) {
    if (!req.has_param(name)) {
        return std::nullopt;
    }
    const auto text = req.get_param_value(name);
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return v;
}

std::optional<std::string> text_param(const httplib::Request& req, const char* name) {
    if (!req.has_param(name)) {
        return std::nullopt;
    }
    return req.get_param_value(name);
}

}  // namespace

ControlServer::ControlServer(std::shared_ptr<store::Store> store,
                             std::function<nlohmann::json()> status)
    : store_(std::move(store)), status_(std::move(status)) {}

ControlServer::~ControlServer() {
    stop();
}

util::Result<void> ControlServer::start(const config::ControlConfig& config) {
    server_ = std::make_unique<httplib::Server>();
    server_->Get("/v1/status", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(status_().dump(2), "application/json");
    });
    server_->Get("/v1/events", [this](const httplib::Request& req, httplib::Response& res) {
        store::EventQuery q;
        q.sender = text_param(req, "sender");
        q.login = text_param(req, "login");
        q.code = text_param(req, "code");
        q.queue_id = text_param(req, "queue_id");
        if (auto ms = int_param(req, "since_ms")) {
            q.since = util::SystemTime{std::chrono::milliseconds(*ms)};
        }
        if (auto ms = int_param(req, "until_ms")) {
            q.until = util::SystemTime{std::chrono::milliseconds(*ms)};
        }
        q.limit = static_cast<std::size_t>(std::clamp<std::int64_t>(
            int_param(req, "limit").value_or(100), 1, kMaxEventsPerRequest));
        auto events = store_->query_events(q);
        if (!events) {
            res.status = 503;
            res.set_content(nlohmann::json{{"error", events.error().describe()}}.dump(),
                            "application/json");
            return;
        }
        nlohmann::json out = nlohmann::json::array();
        for (const auto& e : *events) {
            out.push_back(store::to_json(e));
        }
        res.set_content(out.dump(), "application/json");
    });
    if (admin_) {
        add_admin_routes(*server_, *admin_);
    }
    if (!server_->bind_to_port(config.host, config.port)) {
        return util::fail(
            util::ErrorCode::Unavailable,
            fmt::format("control API cannot listen on {}:{}", config.host, config.port));
    }
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    return {};
}

void ControlServer::stop() {
    if (server_) {
        server_->stop();
    }
    if (thread_.joinable()) {
        thread_.join();
    }
}

}  // namespace mailwarden::milter
