// admin_json.cpp - JSON of the admin's objects; nlohmann's exceptions stay inside.
#include "store/admin_json.hpp"

#include <fmt/format.h>

#include "store/event.hpp"

namespace mailwarden::store {

namespace {

using nlohmann::json;

std::int64_t ms(util::SystemTime t) {
    return to_unix_ms(t);
}

util::SystemTime time_of(const json& j, const char* name) {
    return util::SystemTime{std::chrono::milliseconds(j.value(name, std::int64_t{0}))};
}

// Runs `parse`, turning a type error of nlohmann into InvalidInput naming `what`.
template <class T, class F>
util::Result<T> guarded(const json& j, const char* what, F parse) {
    if (!j.is_object()) {
        return util::fail(util::ErrorCode::InvalidInput, fmt::format("{}: not an object", what));
    }
    try {
        return parse();
    } catch (const json::exception& e) {
        return util::fail(util::ErrorCode::InvalidInput, fmt::format("{}: {}", what, e.what()));
    }
}

}  // namespace

json to_json(const HoldInfo& h) {
    return {{"by", h.by},
            {"reason", h.reason},
            {"since_ms", ms(h.since)},
            {"score", h.score},
            {"figures", json::parse(h.figures, nullptr, false).is_discarded()
                            ? json(h.figures)
                            : json::parse(h.figures, nullptr, false)}};
}

util::Result<HoldInfo> hold_from_json(const json& j) {
    return guarded<HoldInfo>(j, "hold", [&] {
        HoldInfo h;
        h.by = j.value("by", "");
        h.reason = j.value("reason", "");
        h.since = time_of(j, "since_ms");
        h.score = j.value("score", 0.0);
        if (j.contains("figures")) {
            const auto& f = j.at("figures");
            h.figures = f.is_string() ? f.get<std::string>() : f.dump();
        }
        return h;
    });
}

json to_json(const AccountSnapshot& a) {
    const auto& w = a.window;
    const auto& d = a.day;
    const auto& b = a.baseline;
    json j{
        {"login", a.login},
        {"state", std::string(to_string(a.state))},
        {"release_grace_until_ms", ms(a.release_grace_until)},
        {"released_by", a.released_by},
        {"released_at_ms", ms(a.released_at)},
        {"first_seen_ms", ms(a.first_seen)},
        {"last_seen_ms", ms(a.last_seen)},
        {"window",
         {{"index", w.index},
          {"messages", w.messages},
          {"recipients", w.recipients},
          {"failed_recipients", w.failed_recipients},
          {"bounces", w.bounces},
          {"domains", w.domains},
          {"new_domains", w.new_domains},
          {"new_from_domains", w.new_from_domains}}},
        {"day", {{"index", d.index}, {"client_ips", d.client_ips}, {"client_nets", d.client_nets}}},
        {"baseline",
         {{"weight", b.weight},
          {"messages", b.messages},
          {"recipients", b.recipients},
          {"failed_recipients", b.failed_recipients},
          {"bounces", b.bounces},
          {"domains", b.domains},
          {"new_domains", b.new_domains},
          {"day_weight", b.day_weight},
          {"client_ips", b.client_ips},
          {"client_nets", b.client_nets},
          {"messages_seen", b.messages_seen}}}};
    if (a.hold) {
        j["hold"] = to_json(*a.hold);
    }
    return j;
}

util::Result<AccountSnapshot> account_from_json(const json& j) {
    return guarded<AccountSnapshot>(j, "account", [&]() -> util::Result<AccountSnapshot> {
        AccountSnapshot a;
        a.login = j.at("login").get<std::string>();
        a.state = j.value("state", "ok") == "held" ? AccountState::Held : AccountState::Ok;
        if (j.contains("hold")) {
            auto h = hold_from_json(j.at("hold"));
            if (!h) {
                return std::unexpected(h.error());
            }
            a.hold = *h;
        }
        a.release_grace_until = time_of(j, "release_grace_until_ms");
        a.released_by = j.value("released_by", "");
        a.released_at = time_of(j, "released_at_ms");
        a.first_seen = time_of(j, "first_seen_ms");
        a.last_seen = time_of(j, "last_seen_ms");
        const auto& w = j.at("window");
        a.window.index = w.value("index", std::int64_t{0});
        a.window.messages = w.value("messages", std::uint64_t{0});
        a.window.recipients = w.value("recipients", std::uint64_t{0});
        a.window.failed_recipients = w.value("failed_recipients", std::uint64_t{0});
        a.window.bounces = w.value("bounces", std::uint64_t{0});
        a.window.domains = w.value("domains", std::uint64_t{0});
        a.window.new_domains = w.value("new_domains", std::uint64_t{0});
        a.window.new_from_domains = w.value("new_from_domains", std::uint64_t{0});
        const auto& d = j.at("day");
        a.day.index = d.value("index", std::int64_t{0});
        a.day.client_ips = d.value("client_ips", std::uint64_t{0});
        a.day.client_nets = d.value("client_nets", std::uint64_t{0});
        const auto& b = j.at("baseline");
        a.baseline.weight = b.value("weight", 0.0);
        a.baseline.messages = b.value("messages", 0.0);
        a.baseline.recipients = b.value("recipients", 0.0);
        a.baseline.failed_recipients = b.value("failed_recipients", 0.0);
        a.baseline.bounces = b.value("bounces", 0.0);
        a.baseline.domains = b.value("domains", 0.0);
        a.baseline.new_domains = b.value("new_domains", 0.0);
        a.baseline.day_weight = b.value("day_weight", 0.0);
        a.baseline.client_ips = b.value("client_ips", 0.0);
        a.baseline.client_nets = b.value("client_nets", 0.0);
        a.baseline.messages_seen = b.value("messages_seen", std::uint64_t{0});
        return a;
    });
}

json to_json(const LimitOverride& o) {
    return {{"rule", o.rule},
            {"login", o.login},
            {"limits", o.limits},
            {"by", o.by},
            {"set_at_ms", ms(o.set_at)}};
}

util::Result<LimitOverride> override_from_json(const json& j) {
    return guarded<LimitOverride>(j, "override", [&] {
        LimitOverride o;
        o.rule = j.at("rule").get<std::string>();
        o.login = j.at("login").get<std::string>();
        o.limits = j.value("limits", "");
        o.by = j.value("by", "");
        o.set_at = time_of(j, "set_at_ms");
        return o;
    });
}

json to_json(const ratelimit::BucketRequest& r) {
    return {{"key", r.key}, {"limit", r.limit}, {"period_ms", r.period.count()}, {"cost", r.cost}};
}

util::Result<ratelimit::BucketRequest> request_from_json(const json& j) {
    return guarded<ratelimit::BucketRequest>(j, "bucket request", [&] {
        ratelimit::BucketRequest r;
        r.key = j.at("key").get<std::string>();
        r.limit = j.at("limit").get<std::int64_t>();
        r.period = std::chrono::milliseconds(j.at("period_ms").get<std::int64_t>());
        r.cost = j.value("cost", std::int64_t{1});
        return r;
    });
}

json to_json(const ratelimit::BucketUsage& u) {
    return {{"key", u.key},
            {"allowed", u.allowed},
            {"used", u.used},
            {"limit", u.limit},
            {"retry_after_ms", u.retry_after.count()},
            {"over_capacity", u.over_capacity}};
}

util::Result<ratelimit::BucketUsage> usage_from_json(const json& j) {
    return guarded<ratelimit::BucketUsage>(j, "bucket usage", [&] {
        ratelimit::BucketUsage u;
        u.key = j.at("key").get<std::string>();
        u.allowed = j.value("allowed", false);
        u.used = j.value("used", std::int64_t{0});
        u.limit = j.value("limit", std::int64_t{0});
        u.retry_after = std::chrono::milliseconds(j.value("retry_after_ms", std::int64_t{0}));
        u.over_capacity = j.value("over_capacity", false);
        return u;
    });
}

}  // namespace mailwarden::store
