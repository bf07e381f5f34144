// redis_accounts.cpp - AccountStore over RedisStore::run_script and account_update.lua.
#include "store/redis_accounts.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "store/event.hpp"
#include "util/ascii.hpp"

namespace mailwarden::store {

using util::ErrorCode;

struct RedisAccountStore::Reply {
    long long result = 0;
    std::map<std::string, std::string, std::less<>> fields;
};

namespace {

std::string text_of(const redisReply* e) {
    if (e == nullptr) {
        return {};
    }
    if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) {
        return std::string(e->str, e->len);
    }
    if (e->type == REDIS_REPLY_INTEGER) {
        return std::to_string(e->integer);
    }
    return {};
}

util::SystemTime from_ms(double ms) {
    return util::SystemTime{std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)))};
}

std::uint64_t count(double v) {
    return v > 0 ? static_cast<std::uint64_t>(std::llround(v)) : 0;
}

std::string cut(std::string_view text, std::size_t max) {
    return std::string(text.substr(0, std::min(text.size(), max)));
}

double number(const RedisAccountStore::Reply& r, std::string_view name) {
    const auto it = r.fields.find(name);
    if (it == r.fields.end() || it->second.empty()) {
        return 0;
    }
    double v = 0;
    const auto* first = it->second.data();
    const auto [end, ec] = std::from_chars(first, first + it->second.size(), v);
    return ec == std::errc{} ? v : 0;
}

std::string text(const RedisAccountStore::Reply& r, std::string_view name) {
    const auto it = r.fields.find(name);
    return it == r.fields.end() ? std::string{} : it->second;
}

HoldInfo hold_of(const RedisAccountStore::Reply& r, std::string_view prefix) {
    const std::string p(prefix);
    HoldInfo h;
    h.by = text(r, p + "by");
    h.reason = text(r, p + "reason");
    h.since = from_ms(number(r, p + "since"));
    h.score = number(r, p + "score");
    h.figures = text(r, p + "figures");
    return h;
}

AccountSnapshot snapshot_of(const RedisAccountStore::Reply& r) {
    AccountSnapshot s;
    s.login = text(r, "login");
    s.state = text(r, "state") == "held" ? AccountState::Held : AccountState::Ok;
    if (s.state == AccountState::Held) {
        s.hold = hold_of(r, "hold_");
    }
    s.release_grace_until = from_ms(number(r, "grace"));
    s.released_by = text(r, "rel_by");
    s.released_at = from_ms(number(r, "rel_at"));
    s.first_seen = from_ms(number(r, "first"));
    s.last_seen = from_ms(number(r, "last"));
    s.window.index = static_cast<std::int64_t>(number(r, "w"));
    s.window.messages = count(number(r, "w_msgs"));
    s.window.recipients = count(number(r, "w_rcpts"));
    s.window.failed_recipients = count(number(r, "w_failed"));
    s.window.bounces = count(number(r, "w_bounces"));
    s.window.domains = count(number(r, "w_doms"));
    s.window.new_domains = count(number(r, "w_new"));
    s.window.new_from_domains = count(number(r, "w_newfrom"));
    s.day.index = static_cast<std::int64_t>(number(r, "d"));
    s.day.client_ips = count(number(r, "d_ips"));
    s.day.client_nets = count(number(r, "d_nets"));
    auto& b = s.baseline;
    b.weight = number(r, "b_w");
    b.messages = number(r, "b_msgs");
    b.recipients = number(r, "b_rcpts");
    b.failed_recipients = number(r, "b_failed");
    b.bounces = number(r, "b_bounces");
    b.domains = number(r, "b_doms");
    b.new_domains = number(r, "b_new");
    b.day_weight = number(r, "bd_w");
    b.client_ips = number(r, "bd_ips");
    b.client_nets = number(r, "bd_nets");
    b.messages_seen = count(number(r, "seen"));
    return s;
}

}  // namespace

RedisAccountStore::RedisAccountStore(RedisStore& redis)
    : redis_(redis), script_{"account_update", kAccountUpdateLua} {}

util::Result<RedisAccountStore::Reply> RedisAccountStore::run(
    std::string_view op, const std::string& login, const AccountTracking& t, util::SystemTime now,
    std::vector<std::string> extra, const std::string& sender_key) {
    if (auto v = validate_tracking(t); !v) {
        return std::unexpected(v.error());
    }
    std::vector<std::string> keys{redis_.keys().account(login), redis_.keys().held()};
    if (!sender_key.empty()) {
        keys.push_back(sender_key);
    }
    std::vector<std::string> args;
    args.reserve(11 + extra.size());
    args.emplace_back(op);
    args.push_back(std::to_string(to_unix_ms(now)));
    for (const auto ms : {t.window, t.half_life, t.idle_ttl, t.held_ttl, t.sender_ttl}) {
        args.push_back(std::to_string(ms.count()));
    }
    for (const auto cap : {t.known_domains, t.known_from_domains, t.tracked_client_ips}) {
        args.push_back(std::to_string(cap));
    }
    args.push_back(login);
    for (auto& e : extra) {
        args.push_back(std::move(e));
    }
    auto reply = redis_.run_script(script_, keys, args);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY || r.elements < 1 || r.elements % 2 != 1 ||
        r.element[0]->type != REDIS_REPLY_INTEGER) {
        return util::fail(ErrorCode::PermFailure, "account_update: unexpected reply shape");
    }
    Reply out;
    out.result = r.element[0]->integer;
    for (std::size_t i = 1; i + 1 < r.elements; i += 2) {
        out.fields[text_of(r.element[i])] = text_of(r.element[i + 1]);
    }
    return out;
}

util::Result<AccountSnapshot> RedisAccountStore::record(std::string_view login_text,
                                                        const AccountActivity& a,
                                                        const AccountTracking& t,
                                                        util::SystemTime now) {
    auto login = normalize_login(login_text);
    if (!login) {
        return std::unexpected(login.error());
    }
    if (auto v = validate_activity(a); !v) {
        return std::unexpected(v.error());
    }
    std::vector<std::string> extra{std::to_string(a.messages),
                                   std::to_string(a.recipients),
                                   std::to_string(a.failed_recipients),
                                   a.client_ip_tag,
                                   a.client_net_tag,
                                   std::to_string(a.untracked_domains),
                                   std::to_string(a.recipient_domain_tags.size())};
    extra.insert(extra.end(), a.recipient_domain_tags.begin(), a.recipient_domain_tags.end());
    extra.push_back(std::to_string(a.from_domain_tags.size()));
    extra.insert(extra.end(), a.from_domain_tags.begin(), a.from_domain_tags.end());
    const std::string sender_key = a.sender.empty() ? "" : redis_.keys().login_of(a.sender);
    auto reply = run("record", *login, t, now, std::move(extra), sender_key);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    return snapshot_of(*reply);
}

util::Result<void> RedisAccountStore::record_bounces(std::string_view login_text, std::uint64_t n,
                                                     const AccountTracking& t,
                                                     util::SystemTime now) {
    auto login = normalize_login(login_text);
    if (!login) {
        return std::unexpected(login.error());
    }
    auto reply = run("bounce", *login, t, now, {std::to_string(n)});
    if (!reply) {
        return std::unexpected(reply.error());
    }
    return {};
}

util::Result<std::optional<std::string>> RedisAccountStore::login_of(std::string_view sender,
                                                                     util::SystemTime /*now*/) {
    if (sender.empty() || sender.size() > kMaxLoginBytes) {
        return std::optional<std::string>{};
    }
    auto reply = redis_.pool().command({"GET", redis_.keys().login_of(sender)}, Retry::Once);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_NIL) {
        return std::optional<std::string>{};
    }
    if (r.type != REDIS_REPLY_STRING) {
        return util::fail(ErrorCode::PermFailure,
                          fmt::format("GET login_of: {}", reply_error(r).empty()
                                                              ? std::string_view("not a string")
                                                              : reply_error(r)));
    }
    return std::optional<std::string>(std::string(r.str, r.len));
}

util::Result<std::optional<AccountSnapshot>> RedisAccountStore::get(std::string_view login_text,
                                                                    const AccountTracking& t,
                                                                    util::SystemTime now) {
    auto login = normalize_login(login_text);
    if (!login) {
        return std::unexpected(login.error());
    }
    auto reply = run("peek", *login, t, now, {});
    if (!reply) {
        return std::unexpected(reply.error());
    }
    if (reply->result == 0) {
        return std::optional<AccountSnapshot>{};
    }
    return std::optional<AccountSnapshot>(snapshot_of(*reply));
}

util::Result<bool> RedisAccountStore::hold(std::string_view login_text, const HoldInfo& hold,
                                           const AccountTracking& t, util::SystemTime now) {
    auto login = normalize_login(login_text);
    if (!login) {
        return std::unexpected(login.error());
    }
    auto reply = run("hold", *login, t, now,
                     {cut(hold.by, kMaxLoginBytes), cut(hold.reason, kMaxHoldReasonBytes),
                      fmt::format("{:.17g}", std::isfinite(hold.score) ? hold.score : 0.0),
                      cut(hold.figures, kMaxHoldFiguresBytes)});
    if (!reply) {
        return std::unexpected(reply.error());
    }
    return reply->result == 1;
}

util::Result<std::optional<HoldInfo>> RedisAccountStore::release(std::string_view login_text,
                                                                 std::string_view by,
                                                                 std::chrono::milliseconds grace,
                                                                 const AccountTracking& t,
                                                                 util::SystemTime now) {
    auto login = normalize_login(login_text);
    if (!login) {
        return std::unexpected(login.error());
    }
    auto reply =
        run("release", *login, t, now,
            {cut(by, kMaxLoginBytes), std::to_string(std::max<long long>(grace.count(), 0))});
    if (!reply) {
        return std::unexpected(reply.error());
    }
    if (reply->result == 0) {
        return std::optional<HoldInfo>{};
    }
    return std::optional<HoldInfo>(hold_of(*reply, "ended_"));
}

util::Result<std::vector<AccountSnapshot>> RedisAccountStore::held(const AccountTracking& t,
                                                                   util::SystemTime now,
                                                                   std::size_t limit) {
    if (auto v = validate_tracking(t); !v) {
        return std::unexpected(v.error());
    }
    auto reply = redis_.pool().command({"SMEMBERS", redis_.keys().held()}, Retry::Once);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY) {
        return util::fail(ErrorCode::PermFailure, "SMEMBERS held: not a set");
    }
    std::vector<std::string> logins;
    for (std::size_t i = 0; i < r.elements; ++i) {
        logins.push_back(text_of(r.element[i]));
    }
    std::sort(logins.begin(), logins.end());
    std::vector<AccountSnapshot> out;
    for (const auto& login : logins) {
        if (out.size() >= limit) {
            break;
        }
        auto account = get(login, t, now);
        if (!account) {
            return std::unexpected(account.error());
        }
        if (*account && (*account)->state == AccountState::Held) {
            out.push_back(std::move(**account));
        }
    }
    return out;
}

}  // namespace mailwarden::store
