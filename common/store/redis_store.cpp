// redis_store.cpp - RedisStore: events as stream entries (event.hpp's flat fields), hourly
// code counters as hashes, queries by paging XREVRANGE backwards.
//
// Keys come from Keys only; user data travels as argv elements only. Every key written
// gets an EXPIRE or a MAXLEN cap, so Redis memory stays bounded whatever the traffic.
#include "store/redis_store.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace mailwarden::store {
namespace {

using util::ErrorCode;

// Stream ids are the arrival time at Redis; an event stamped by another node may arrive
// with an id up to this much before its own time.
constexpr std::int64_t kClockSkewAllowanceMs = 5 * 60 * 1000;
// Entries read per XREVRANGE.
constexpr std::size_t kQueryPageEntries = 500;

std::string_view text_of(const redisReply& reply) {
    if ((reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS) &&
        reply.str != nullptr) {
        return {reply.str, reply.len};
    }
    return {};
}

util::Result<std::int64_t> integer_of(const redisReply& reply) {
    if (reply.type == REDIS_REPLY_INTEGER) {
        return reply.integer;
    }
    const std::string_view text = text_of(reply);
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) {
        return util::fail(ErrorCode::PermFailure, "redis: expected an integer reply");
    }
    return value;
}

util::Error server_error(std::string_view what, std::string_view message) {
    return util::Error{ErrorCode::PermFailure, fmt::format("redis {}: {}", what, message), {}};
}

// The id just before `id` ("ms-seq"), for an exclusive XREVRANGE end that Redis < 6.2
// also understands; empty when `id` is the smallest possible.
std::string previous_id(std::string_view id) {
    const auto dash = id.find('-');
    std::uint64_t ms = 0, seq = 0;
    if (dash == std::string_view::npos ||
        std::from_chars(id.data(), id.data() + dash, ms).ec != std::errc{} ||
        std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq).ec != std::errc{}) {
        return {};
    }
    if (seq > 0) {
        return fmt::format("{}-{}", ms, seq - 1);
    }
    if (ms == 0) {
        return {};
    }
    return fmt::format("{}-18446744073709551615", ms - 1);
}

}  // namespace

RedisStore::RedisStore(RedisOptions options)
    : options_(std::move(options)),
      keys_(options_.prefix),
      pool_(std::make_unique<RedisPool>(options_)),
      scripts_(std::make_unique<ScriptRegistry>(*pool_)) {}

RedisStore::~RedisStore() = default;

util::Result<void> RedisStore::ping() {
    auto reply = pool_->command({"PING"}, Retry::Once);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    if (text_of(**reply) != "PONG") {
        return util::fail(ErrorCode::Unavailable,
                          fmt::format("redis PING: {}", reply_error(**reply)));
    }
    return {};
}

util::Result<void> RedisStore::append_events(std::span<const Event> events) {
    if (events.empty()) {
        return {};
    }
    const std::string stream_cap = std::to_string(std::max<std::size_t>(options_.stream_maxlen, 1));
    const std::string sender_cap =
        std::to_string(std::max<std::size_t>(options_.sender_stream_maxlen, 1));
    const std::string events_key = keys_.events();

    std::vector<Command> commands;
    commands.reserve(events.size() * 3 + 4);
    commands.push_back({"MULTI"});
    std::vector<bool> is_primary;  // per queued command: the XADD to mw:events?
    std::set<std::string> counter_keys, sender_keys;
    const auto add_entry = [](Command& command, const Event& event) {
        for (auto& [field, value] : to_fields(event)) {
            command.push_back(std::move(field));
            command.push_back(std::move(value));
        }
    };
    for (const Event& event : events) {
        Command xadd{"XADD", events_key, "MAXLEN", "~", stream_cap, "*"};
        add_entry(xadd, event);
        commands.push_back(std::move(xadd));
        is_primary.push_back(true);

        std::string codes_key = keys_.codes(event.time);
        commands.push_back({"HINCRBY", codes_key, counter_key(event), "1"});
        is_primary.push_back(false);
        counter_keys.insert(std::move(codes_key));

        if (is_outgoing_failure(event)) {
            add_failure_commands(event, commands, is_primary, counter_keys, sender_keys);
        }
        if (!event.sender.empty()) {
            std::string sender_key = keys_.sender(event.sender);
            Command sender_xadd{"XADD", sender_key, "MAXLEN", "~", sender_cap, "*"};
            add_entry(sender_xadd, event);
            commands.push_back(std::move(sender_xadd));
            is_primary.push_back(false);
            sender_keys.insert(std::move(sender_key));
        }
    }
    const std::string event_ttl = std::to_string(options_.event_ttl.count());
    const std::string counter_ttl = std::to_string(options_.counter_ttl.count());
    commands.push_back({"EXPIRE", events_key, event_ttl});
    is_primary.push_back(false);
    for (const auto& key : counter_keys) {
        commands.push_back({"EXPIRE", key, counter_ttl});
        is_primary.push_back(false);
    }
    for (const auto& key : sender_keys) {
        commands.push_back({"EXPIRE", key, event_ttl});
        is_primary.push_back(false);
    }
    commands.push_back({"EXEC"});

    auto replies = pool_->execute(commands, Retry::Never);
    if (!replies) {
        return std::unexpected(replies.error());
    }
    const redisReply& exec = *replies->back();
    if (exec.type != REDIS_REPLY_ARRAY) {
        // EXECABORT (a command was refused while queueing) or nil: nothing was applied.
        std::string_view why = reply_error(exec);
        for (std::size_t i = 1; why.empty() && i + 1 < replies->size(); ++i) {
            why = reply_error(*(*replies)[i]);
        }
        return std::unexpected(server_error("append", why.empty() ? "transaction aborted" : why));
    }
    if (exec.elements != is_primary.size()) {
        return std::unexpected(server_error("append", "EXEC returned a short reply"));
    }
    for (std::size_t i = 0; i < exec.elements; ++i) {
        const std::string_view err = reply_error(*exec.element[i]);
        if (err.empty()) {
            continue;
        }
        if (is_primary[i]) {
            return std::unexpected(server_error("XADD " + events_key, err));
        }
        spdlog::warn("redis append: a secondary write failed (events are recorded): {}", err);
    }
    return {};
}

// Outgoing failures: the per-hour counter of each dimension (TTL of the code counters)
// and the capped recent-failure lists of sender, login and domain (TTL of the events).
void RedisStore::add_failure_commands(const Event& event, std::vector<Command>& commands,
                                      std::vector<bool>& is_primary,
                                      std::set<std::string>& counter_keys,
                                      std::set<std::string>& list_keys) const {
    for (FailureDimension dimension : kFailureDimensions) {
        std::string value = failure_value(event, dimension);
        if (value.empty()) {
            continue;
        }
        std::string key = keys_.failure_counter(to_string(dimension), event.time);
        commands.push_back({"HINCRBY", key, std::move(value), "1"});
        is_primary.push_back(false);
        counter_keys.insert(std::move(key));
    }
    const std::string json = to_json(event).dump();
    const std::string last = std::to_string(kRecentFailuresPerOwner - 1);
    for (const auto& [owner, who] : failure_owners(event)) {
        std::string key = keys_.failure_list(to_string(owner), who);
        commands.push_back({"LPUSH", key, json});
        is_primary.push_back(false);
        commands.push_back({"LTRIM", key, "0", last});
        is_primary.push_back(false);
        list_keys.insert(std::move(key));
    }
}

util::Result<FailureCounts> RedisStore::failure_counts(FailureDimension dimension,
                                                       util::SystemTime hour) {
    return hash_counts(keys_.failure_counter(to_string(dimension), hour));
}

util::Result<std::vector<Event>> RedisStore::recent_failures(FailureOwner owner,
                                                             std::string_view who,
                                                             std::size_t limit) {
    std::vector<Event> out;
    if (limit == 0) {
        return out;
    }
    const std::string key = keys_.failure_list(to_string(owner), who);
    const std::size_t n = std::min(limit, kRecentFailuresPerOwner);
    auto reply = pool_->command({"LRANGE", key, "0", std::to_string(n - 1)}, Retry::Once);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY) {
        return std::unexpected(server_error("LRANGE " + key, reply_error(r)));
    }
    std::size_t skipped = 0;
    for (std::size_t i = 0; i < r.elements; ++i) {
        const nlohmann::json json =
            nlohmann::json::parse(text_of(*r.element[i]), nullptr, /*allow_exceptions=*/false);
        auto event = from_json(json);
        if (!event) {
            ++skipped;
            continue;
        }
        out.push_back(std::move(*event));
    }
    if (skipped > 0) {
        spdlog::warn("redis {}: skipped {} malformed entries", key, skipped);
    }
    return out;
}

util::Result<std::vector<Event>> RedisStore::query_events(const EventQuery& query) {
    std::vector<Event> out;
    if (query.limit == 0) {
        return out;
    }
    // The null sender ("") has no stream of its own: its events are only in mw:events.
    const bool by_sender = query.sender && !query.sender->empty();
    const std::string stream = by_sender ? keys_.sender(*query.sender) : keys_.events();
    std::string min_id = "-";
    if (query.since) {
        min_id = std::to_string(
            std::max<std::int64_t>(to_unix_ms(*query.since) - kClockSkewAllowanceMs, 0));
    }
    const std::string count = std::to_string(kQueryPageEntries);
    // MAXLEN ~ may keep a little more than the cap; stop after twice the cap in any case.
    const std::size_t max_scanned =
        2 * std::max(options_.stream_maxlen, options_.sender_stream_maxlen) + kQueryPageEntries;
    std::string end = "+";
    std::size_t scanned = 0, skipped = 0;
    while (out.size() < query.limit && scanned < max_scanned) {
        auto reply =
            pool_->command({"XREVRANGE", stream, end, min_id, "COUNT", count}, Retry::Once);
        if (!reply) {
            return std::unexpected(reply.error());
        }
        const redisReply& page = **reply;
        if (page.type != REDIS_REPLY_ARRAY) {
            return std::unexpected(server_error("XREVRANGE " + stream, reply_error(page)));
        }
        std::string last_id;
        for (std::size_t i = 0; i < page.elements && out.size() < query.limit; ++i) {
            const redisReply& entry = *page.element[i];
            if (entry.type != REDIS_REPLY_ARRAY || entry.elements != 2 ||
                entry.element[1]->type != REDIS_REPLY_ARRAY) {
                ++skipped;
                continue;
            }
            last_id = std::string(text_of(*entry.element[0]));
            const redisReply& kv = *entry.element[1];
            std::vector<std::pair<std::string, std::string>> fields;
            for (std::size_t j = 0; j + 1 < kv.elements; j += 2) {
                fields.emplace_back(text_of(*kv.element[j]), text_of(*kv.element[j + 1]));
            }
            auto event = from_fields(fields);
            if (!event) {
                ++skipped;
                continue;
            }
            event->id = last_id;
            if (matches(*event, query)) {
                out.push_back(std::move(*event));
            }
        }
        scanned += page.elements;
        if (page.elements < kQueryPageEntries || last_id.empty()) {
            break;
        }
        end = previous_id(last_id);
        if (end.empty()) {
            break;
        }
    }
    if (skipped > 0) {
        spdlog::warn("redis query {}: skipped {} malformed entries", stream, skipped);
    }
    return out;
}

util::Result<CodeCounts> RedisStore::code_counts(util::SystemTime hour) {
    return hash_counts(keys_.codes(hour));
}

util::Result<std::map<std::string, std::int64_t>> RedisStore::hash_counts(const std::string& key) {
    auto reply = pool_->command({"HGETALL", key}, Retry::Once);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY) {
        return std::unexpected(server_error("HGETALL " + key, reply_error(r)));
    }
    CodeCounts counts;
    for (std::size_t i = 0; i + 1 < r.elements; i += 2) {
        auto value = integer_of(*r.element[i + 1]);
        if (!value) {
            return std::unexpected(value.error());
        }
        counts[std::string(text_of(*r.element[i]))] = *value;
    }
    return counts;
}

util::Result<ReplyPtr> RedisStore::run_script(const Script& script,
                                              std::span<const std::string> keys,
                                              std::span<const std::string> args) {
    return scripts_->run(script, keys, args);
}

}  // namespace mailwarden::store
