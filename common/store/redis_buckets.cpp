// redis_buckets.cpp - BucketStore over RedisStore::run_script and gcra_check.lua.
#include "store/redis_buckets.hpp"

#include <hiredis/hiredis.h>

#include <fmt/format.h>

#include "ratelimit/gcra.hpp"

namespace mailwarden::store {

namespace gcra = ratelimit::gcra;
using util::ErrorCode;

namespace {

// Fields per bucket in the script's reply: allowed, used, retry_after_us, over_capacity.
constexpr std::size_t kReplyFields = 4;

util::Result<long long> integer_at(const redisReply& reply, std::size_t i) {
    const redisReply* e = reply.element[i];
    if (e == nullptr || e->type != REDIS_REPLY_INTEGER) {
        return util::fail(ErrorCode::PermFailure,
                          fmt::format("gcra_check: reply element {} is not an integer", i));
    }
    return e->integer;
}

}  // namespace

RedisBucketStore::RedisBucketStore(RedisStore& redis)
    : redis_(redis), script_{"gcra_check", kGcraCheckLua} {}

std::string RedisBucketStore::redis_key(std::string_view bucket_key) const {
    return redis_.keys().prefix() + "rl:" + std::string(bucket_key);
}

util::Result<BucketOutcome> RedisBucketStore::check_and_consume(
    std::span<const BucketRequest> requests, util::SystemTime now) {
    auto usages = run(requests, now, true);
    if (!usages) {
        return std::unexpected(usages.error());
    }
    return summarize(std::move(*usages), "redis");
}

util::Result<std::vector<BucketUsage>> RedisBucketStore::peek(
    std::span<const BucketRequest> requests, util::SystemTime now) {
    return run(requests, now, false);
}

util::Result<std::vector<BucketUsage>> RedisBucketStore::run(
    std::span<const BucketRequest> requests, util::SystemTime now, bool charge) {
    if (auto valid = validate_requests(requests); !valid) {
        return std::unexpected(valid.error());
    }
    if (requests.empty()) {
        return std::vector<BucketUsage>{};
    }
    std::vector<std::string> keys;
    std::vector<std::string> args;
    keys.reserve(requests.size());
    args.reserve(2 + 3 * requests.size());
    args.push_back(std::to_string(gcra::to_micros(now)));
    args.emplace_back(charge ? "check" : "peek");
    for (const auto& r : requests) {
        keys.push_back(redis_key(r.key));
        const auto p = gcra::params(r.limit, r.period);
        args.push_back(std::to_string(p.interval));
        args.push_back(std::to_string(p.limit));
        args.push_back(std::to_string(r.cost));
    }
    auto reply = redis_.run_script(script_, keys, args);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 1 + kReplyFields * requests.size()) {
        return util::fail(ErrorCode::PermFailure, "gcra_check: unexpected reply shape");
    }
    // Element 0 (every bucket allowed) is implied by the per-bucket fields.
    std::vector<BucketUsage> out;
    out.reserve(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const std::size_t base = 1 + kReplyFields * i;
        auto allowed = integer_at(r, base);
        auto used = integer_at(r, base + 1);
        auto retry = integer_at(r, base + 2);
        auto over = integer_at(r, base + 3);
        if (!allowed || !used || !retry || !over) {
            return util::fail(ErrorCode::PermFailure, "gcra_check: non-integer in reply");
        }
        BucketUsage u;
        u.key = requests[i].key;
        u.allowed = *allowed == 1;
        u.used = *used;
        u.limit = requests[i].limit;
        u.retry_after = std::chrono::milliseconds(gcra::ceil_div(*retry, 1000));
        u.over_capacity = *over == 1;
        out.push_back(std::move(u));
    }
    return out;
}

}  // namespace mailwarden::store
