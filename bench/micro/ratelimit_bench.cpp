// ratelimit_bench.cpp - cost of the rate-limit check of one message touching 4 buckets
// (a login rule and a /24 rule, each with a minute and a day window), against the
// in-process MemoryBucketStore and, when $MW_BENCH_REDIS_PORT names a redis-server on
// 127.0.0.1, against Redis (one EVALSHA round trip per message). Logins rotate over
// 10,000 so the buckets are real map/Redis entries, not one hot key. The limits are high
// enough that no check is refused: every iteration takes the dearer path that writes all
// four buckets (the `refused` counter shows 0).
//
// BM_RedisBytesPerLogin charges 10,000 new logins once and reports Redis memory growth
// per login (INFO used_memory delta): the cost of tracking one active login.
#include <benchmark/benchmark.h>

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ratelimit/limiter.hpp"
#include "store/memory_buckets.hpp"
#include "store/redis_buckets.hpp"
#include "store/redis_store.hpp"

namespace {

namespace rl = mailwarden::ratelimit;
namespace store = mailwarden::store;
using namespace std::chrono_literals;

constexpr int kLogins = 10'000;

std::vector<rl::Rule> four_bucket_rules() {
    rl::Rule login;
    login.name = "outbound-login";
    login.key = {rl::KeyPart::Login};
    login.windows = {{100'000, 1min}, {1'000'000, 24h}};
    rl::Rule prefix;
    prefix.name = "outbound-net";
    prefix.key = {rl::KeyPart::ClientPrefix};
    prefix.windows = {{100'000, 1min}, {1'000'000, 24h}};
    return {login, prefix};
}

std::vector<rl::MessageFacts> facts_for_logins(const std::string& tag) {
    std::vector<rl::MessageFacts> out;
    out.reserve(kLogins);
    for (int i = 0; i < kLogins; ++i) {
        rl::MessageFacts f;
        f.login = fmt::format("{}user{}@example.com", tag, i);
        f.sender = f.login;
        f.client_ip = mailwarden::util::IpAddress::v4(198, 51, static_cast<std::uint8_t>(i % 256),
                                                      static_cast<std::uint8_t>(i / 256));
        f.recipients = {"rcpt@example.org"};
        out.push_back(std::move(f));
    }
    return out;
}

std::optional<int> bench_redis_port() {
    const char* env = std::getenv("MW_BENCH_REDIS_PORT");
    if (env == nullptr || *env == '\0') {
        return std::nullopt;
    }
    return std::atoi(env);
}

void run_checks(benchmark::State& state, const rl::Limiter& limiter,
                const std::vector<rl::MessageFacts>& facts) {
    std::size_t i = 0;
    std::int64_t refused = 0;
    for (auto _ : state) {
        auto r = limiter.check(facts[i], rl::Stage::EndOfMessage, std::chrono::system_clock::now());
        if (!r) {
            state.SkipWithError(r.error().describe().c_str());
            break;
        }
        refused += r->allowed ? 0 : 1;
        benchmark::DoNotOptimize(r);
        i = (i + 1) % facts.size();
    }
    state.counters["refused"] = static_cast<double>(refused);
}

void BM_MemoryCheck4Buckets(benchmark::State& state) {
    store::MemoryBucketStore buckets;
    const rl::Limiter limiter(four_bucket_rules(), buckets);
    run_checks(state, limiter, facts_for_logins("m"));
}
BENCHMARK(BM_MemoryCheck4Buckets)->ThreadRange(1, 4)->UseRealTime();

void BM_RedisCheck4Buckets(benchmark::State& state) {
    const auto port = bench_redis_port();
    if (!port) {
        state.SkipWithError("set MW_BENCH_REDIS_PORT to a redis-server on 127.0.0.1");
        for (auto _ : state) {
        }
        return;
    }
    store::RedisOptions options;
    options.port = *port;
    options.prefix = "bench:";
    store::RedisStore redis(options);
    store::RedisBucketStore buckets(redis);
    const rl::Limiter limiter(four_bucket_rules(), buckets);
    run_checks(state, limiter, facts_for_logins(fmt::format("r{}-", state.thread_index())));
}
BENCHMARK(BM_RedisCheck4Buckets)->ThreadRange(1, 4)->UseRealTime();

long long used_memory(int port) {
    redisContext* c = redisConnect("127.0.0.1", port);
    if (c == nullptr || c->err != 0) {
        if (c != nullptr) {
            redisFree(c);
        }
        return -1;
    }
    auto* reply = static_cast<redisReply*>(redisCommand(c, "INFO memory"));
    long long used = -1;
    if (reply != nullptr && reply->type == REDIS_REPLY_STRING) {
        const std::string text(reply->str, reply->len);
        const auto at = text.find("used_memory:");
        if (at != std::string::npos) {
            used = std::atoll(text.c_str() + at + 12);
        }
    }
    freeReplyObject(reply);
    redisFree(c);
    return used;
}

// One message from each of 10,000 new logins through a login rule with two windows
// (30/1m, 500/1d: two keys per login), then the growth of used_memory per login.
void BM_RedisBytesPerLogin(benchmark::State& state) {
    const auto port = bench_redis_port();
    if (!port) {
        state.SkipWithError("set MW_BENCH_REDIS_PORT to a redis-server on 127.0.0.1");
        for (auto _ : state) {
        }
        return;
    }
    store::RedisOptions options;
    options.port = *port;
    options.prefix = "mw:";
    store::RedisStore redis(options);
    store::RedisBucketStore buckets(redis);
    rl::Rule login;
    login.name = "outbound-login";
    login.key = {rl::KeyPart::Login};
    login.windows = {{30, 1min}, {500, 24h}};
    const rl::Limiter limiter({login}, buckets);
    static int run = 0;
    const auto facts = facts_for_logins(fmt::format("mem{}-", run++));
    double per_login = 0;
    for (auto _ : state) {
        const long long before = used_memory(*port);
        for (const auto& f : facts) {
            auto r = limiter.check(f, rl::Stage::EndOfMessage, std::chrono::system_clock::now());
            if (!r) {
                state.SkipWithError(r.error().describe().c_str());
                return;
            }
        }
        const long long after = used_memory(*port);
        per_login = static_cast<double>(after - before) / kLogins;
    }
    state.counters["bytes_per_login"] = per_login;
}
BENCHMARK(BM_RedisBytesPerLogin)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
