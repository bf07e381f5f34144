// control_admin.cpp - the admin routes of the control API (see control_admin.hpp).
#include "milter/control_admin.hpp"

#include <httplib.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "store/admin_json.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::milter {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxHeldListed = 10'000;
constexpr std::size_t kMaxBodyBytes = 1 << 20;

util::SystemTime now() {
    return std::chrono::time_point_cast<util::SystemTime::duration>(
        std::chrono::system_clock::now());
}

void reply(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

void reply_error(httplib::Response& res, const util::Error& e) {
    reply(res, e.code == util::ErrorCode::InvalidInput ? 400 : 503, {{"error", e.describe()}});
}

// The JSON body of a state-changing request, or nullopt after answering 403/415/400.
std::optional<json> admin_body(const httplib::Request& req, httplib::Response& res) {
    if (!is_loopback_address(req.remote_addr)) {
        reply(res, 403, {{"error", "changes are accepted from loopback clients only"}});
        return std::nullopt;
    }
    if (!req.get_header_value("Content-Type").starts_with("application/json")) {
        reply(res, 415, {{"error", "send the body as application/json"}});
        return std::nullopt;
    }
    if (req.body.size() > kMaxBodyBytes) {
        reply(res, 413, {{"error", "body too large"}});
        return std::nullopt;
    }
    auto body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) {
        reply(res, 400, {{"error", "the body is not a JSON object"}});
        return std::nullopt;
    }
    return body;
}

std::string text(const json& j, const char* name) {
    const auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

bool is_loopback_address(std::string_view address) {
    auto ip = util::IpAddress::parse(address);
    if (!ip) {
        return false;
    }
    const auto u = ip->unmapped();
    if (u.is_v4()) {
        return u.bytes()[0] == 127;
    }
    return *ip == *util::IpAddress::parse("::1");
}

void add_admin_routes(httplib::Server& server, AdminBackends b) {
    auto be = std::make_shared<AdminBackends>(std::move(b));
    server.Get("/v1/accounts", [be](const httplib::Request& req, httplib::Response& res) {
        std::size_t limit = 1000;
        if (req.has_param("limit")) {
            const auto t = req.get_param_value("limit");
            std::from_chars(t.data(), t.data() + t.size(), limit);
        }
        auto held = be->accounts->held(be->tracking(), now(),
                                       std::clamp<std::size_t>(limit, 1, kMaxHeldListed));
        if (!held) {
            return reply_error(res, held.error());
        }
        json out = json::array();
        for (const auto& a : *held) {
            out.push_back(store::to_json(a));
        }
        reply(res, 200, out);
    });
    server.Get("/v1/account", [be](const httplib::Request& req, httplib::Response& res) {
        auto a = be->accounts->get(req.get_param_value("login"), be->tracking(), now());
        if (!a) {
            return reply_error(res, a.error());
        }
        reply(res, 200, *a ? store::to_json(**a) : json(nullptr));
    });
    server.Get("/v1/overrides", [be](const httplib::Request&, httplib::Response& res) {
        auto list = be->overrides->list();
        if (!list) {
            return reply_error(res, list.error());
        }
        json out = json::array();
        for (const auto& o : *list) {
            out.push_back(store::to_json(o));
        }
        reply(res, 200, out);
    });
    server.Post("/v1/buckets/peek", [be](const httplib::Request& req, httplib::Response& res) {
        auto body = admin_body(req, res);
        if (!body) {
            return;
        }
        std::vector<ratelimit::BucketRequest> requests;
        for (const auto& r : body->value("requests", json::array())) {
            auto parsed = store::request_from_json(r);
            if (!parsed) {
                return reply_error(res, parsed.error());
            }
            requests.push_back(std::move(*parsed));
        }
        auto usages = be->buckets->peek(requests, now());
        if (!usages) {
            return reply_error(res, usages.error());
        }
        json out = json::array();
        for (const auto& u : *usages) {
            out.push_back(store::to_json(u));
        }
        reply(res, 200, {{"usages", out}, {"source", std::string(be->buckets->kind())}});
    });
    server.Post("/v1/accounts/hold", [be](const httplib::Request& req, httplib::Response& res) {
        auto body = admin_body(req, res);
        if (!body) {
            return;
        }
        store::HoldInfo h{text(*body, "by"), text(*body, "reason"), now(), 0, "{}"};
        auto held = be->accounts->hold(text(*body, "login"), h, be->tracking(), now());
        if (!held) {
            return reply_error(res, held.error());
        }
        spdlog::warn("control API: login {} {} by {}", text(*body, "login"),
                     *held ? "held" : "already held", h.by);
        reply(res, 200, {{"held", *held}});
    });
    server.Post("/v1/accounts/release", [be](const httplib::Request& req, httplib::Response& res) {
        auto body = admin_body(req, res);
        if (!body) {
            return;
        }
        const auto grace = std::chrono::milliseconds(body->value("grace_ms", std::int64_t{0}));
        auto ended = be->accounts->release(text(*body, "login"), text(*body, "by"), grace,
                                           be->tracking(), now());
        if (!ended) {
            return reply_error(res, ended.error());
        }
        spdlog::warn("control API: login {} released by {}", text(*body, "login"),
                     text(*body, "by"));
        reply(res, 200, {{"ended", *ended ? store::to_json(**ended) : json(nullptr)}});
    });
    server.Post("/v1/overrides", [be](const httplib::Request& req, httplib::Response& res) {
        auto body = admin_body(req, res);
        if (!body) {
            return;
        }
        auto o = store::override_from_json(*body);
        if (!o) {
            return reply_error(res, o.error());
        }
        o->set_at = now();
        if (auto set = be->overrides->set(*o); !set) {
            return reply_error(res, set.error());
        }
        reply(res, 200, store::to_json(*o));
    });
    server.Post("/v1/overrides/remove", [be](const httplib::Request& req, httplib::Response& res) {
        auto body = admin_body(req, res);
        if (!body) {
            return;
        }
        auto removed = be->overrides->remove(text(*body, "rule"), text(*body, "login"));
        if (!removed) {
            return reply_error(res, removed.error());
        }
        reply(res, 200, {{"removed", *removed}});
    });
}

}  // namespace mailwarden::milter
