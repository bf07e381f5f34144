// redis_overrides.cpp - OverrideStore over the `mw:overrides` hash.
#include "store/redis_overrides.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "store/event.hpp"
#include "util/ascii.hpp"

namespace mailwarden::store {

using util::ErrorCode;

namespace {

util::Result<long long> integer_of(const ReplyPtr& reply, std::string_view what) {
    if (reply->type != REDIS_REPLY_INTEGER) {
        return util::fail(ErrorCode::PermFailure, fmt::format("{}: {}", what, reply_error(*reply)));
    }
    return reply->integer;
}

}  // namespace

util::Result<std::vector<LimitOverride>> RedisOverrideStore::list() {
    auto reply = redis_.pool().command({"HGETALL", redis_.keys().overrides()}, Retry::Once);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY) {
        return util::fail(ErrorCode::PermFailure, "HGETALL overrides: not a hash");
    }
    std::vector<LimitOverride> out;
    for (std::size_t i = 0; i + 1 < r.elements && out.size() < kMaxOverrides; i += 2) {
        const std::string field(r.element[i]->str, r.element[i]->len);
        const auto colon = field.find(':');
        const auto json = nlohmann::json::parse(
            std::string_view(r.element[i + 1]->str, r.element[i + 1]->len), nullptr, false);
        if (colon == std::string::npos || !json.is_object()) {
            continue;
        }
        LimitOverride o;
        o.rule = field.substr(0, colon);
        o.login = field.substr(colon + 1);
        o.limits = json.value("limits", "");
        o.by = json.value("by", "");
        o.set_at = util::SystemTime{std::chrono::milliseconds(json.value("set_at_ms", 0LL))};
        out.push_back(std::move(o));
    }
    std::sort(out.begin(), out.end(), [](const LimitOverride& a, const LimitOverride& b) {
        return std::tie(a.rule, a.login) < std::tie(b.rule, b.login);
    });
    return out;
}

util::Result<void> RedisOverrideStore::set(const LimitOverride& o) {
    if (auto v = validate_override(o); !v) {
        return v;
    }
    const auto key = redis_.keys().overrides();
    const auto field = override_field(o.rule, o.login);
    const std::vector<Command> probe{{"HEXISTS", key, field}, {"HLEN", key}};
    auto replies = redis_.pool().execute(probe, Retry::Once);
    if (!replies) {
        return std::unexpected(replies.error());
    }
    auto exists = integer_of((*replies)[0], "HEXISTS overrides");
    auto length = integer_of((*replies)[1], "HLEN overrides");
    if (!exists || !length) {
        return std::unexpected(!exists ? exists.error() : length.error());
    }
    if (*exists == 0 && static_cast<std::size_t>(*length) >= kMaxOverrides) {
        return util::fail(
            ErrorCode::InvalidInput,
            fmt::format("{} overrides exist already; remove some first", kMaxOverrides));
    }
    const nlohmann::json value{
        {"limits", o.limits}, {"by", o.by}, {"set_at_ms", to_unix_ms(o.set_at)}};
    auto reply = redis_.pool().command({"HSET", key, field, value.dump()}, Retry::Never);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    if (auto n = integer_of(*reply, "HSET overrides"); !n) {
        return std::unexpected(n.error());
    }
    return {};
}

util::Result<bool> RedisOverrideStore::remove(std::string_view rule, std::string_view login) {
    auto reply = redis_.pool().command(
        {"HDEL", redis_.keys().overrides(), override_field(rule, login)}, Retry::Once);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    auto n = integer_of(*reply, "HDEL overrides");
    if (!n) {
        return std::unexpected(n.error());
    }
    return *n > 0;
}

}  // namespace mailwarden::store
