// spf_bench.cpp - SPF evaluation cost (Google Benchmark).
//
// A typical published policy: the sender domain includes a chain of three records with
// ip4/ip6 ranges (as large providers publish them), served by a StaticResolver. "Cached"
// reuses parsed records through a RecordCache, as the daemon does; "Uncached" parses every
// record on every evaluation. The client matches in the last record of the chain, so every
// record is walked. Target: cached evaluation well under 10 µs.
#include <benchmark/benchmark.h>

#include "auth/spf/evaluator.hpp"
#include "auth/spf/record_cache.hpp"
#include "dns/static_resolver.hpp"
#include "util/clock.hpp"

namespace {

namespace spf = mailwarden::auth::spf;
namespace dns = mailwarden::dns;
namespace util = mailwarden::util;

void publish(dns::StaticResolver& zone) {
    zone.add_txt("example.com", "v=spf1 ip4:198.51.100.0/24 include:_spf1.example.com ~all");
    zone.add_txt("_spf1.example.com",
                 "v=spf1 ip4:203.0.113.0/25 ip4:203.0.113.128/26 ip6:2001:db8:10::/48 "
                 "include:_spf2.example.com ~all");
    zone.add_txt("_spf2.example.com",
                 "v=spf1 ip4:192.0.2.0/28 ip4:192.0.2.16/28 ip4:192.0.2.32/28 "
                 "ip6:2001:db8:20::/48 ip6:2001:db8:21::/48 include:_spf3.example.com ~all");
    zone.add_txt("_spf3.example.com",
                 "v=spf1 ip4:192.0.2.64/27 ip4:192.0.2.96/27 ip4:192.0.2.128/25 "
                 "ip6:2001:db8:30::/44 ip6:2001:db8:40::/44 -all");
}

void run(benchmark::State& state, bool cached, const char* client) {
    dns::StaticResolver zone;
    publish(zone);
    util::SystemClock clock;
    spf::RecordCache cache(clock);
    const spf::Evaluator evaluator(zone, clock, spf::Options{}, cached ? &cache : nullptr);
    const auto ip = *util::IpAddress::parse(client);
    for (auto _ : state) {
        auto outcome = evaluator.check_mail_from(ip, "<alice@example.com>", "mail.example.net");
        if (outcome.result != spf::Result::Pass) {
            state.SkipWithError("expected pass");
            break;
        }
        benchmark::DoNotOptimize(outcome);
    }
}

void BM_SpfCachedIncludeChain3Ipv4(benchmark::State& state) {
    run(state, true, "192.0.2.200");
}
void BM_SpfCachedIncludeChain3Ipv6(benchmark::State& state) {
    run(state, true, "2001:db8:41::25");
}
void BM_SpfUncachedIncludeChain3Ipv4(benchmark::State& state) {
    run(state, false, "192.0.2.200");
}

}  // namespace

BENCHMARK(BM_SpfCachedIncludeChain3Ipv4);
BENCHMARK(BM_SpfCachedIncludeChain3Ipv6);
BENCHMARK(BM_SpfUncachedIncludeChain3Ipv4);
