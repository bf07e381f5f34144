// dns_options.cpp - see dns_options.hpp.
#include "dns_options.hpp"

#include <fmt/format.h>

#include <iostream>

#include "dns/static_resolver.hpp"
#include "dns/unbound_resolver.hpp"

namespace mailwarden::ctl {

void add_dns_options(CLI::App& cmd, DnsOptions& options) {
    cmd.add_option("--dns-zone", options.zone_file,
                   "answer from this YAML zone (SPF test-suite zonedata format) instead of DNS")
        ->check(CLI::ExistingFile);
    cmd.add_option("--dns-server", options.dns_servers,
                   "forward queries to HOST or HOST@PORT (repeatable; default resolv.conf)");
    cmd.add_option("--timeout-ms", options.timeout_ms, "per-query DNS timeout")
        ->check(CLI::Range(1, 60000))
        ->capture_default_str();
}

std::unique_ptr<dns::Resolver> make_resolver(const DnsOptions& options, std::string_view command) {
    auto fail = [&](const std::string& message) {
        // CLI11's App::exit() prints nothing for a RuntimeError, so say why before leaving.
        std::cerr << "mailwardenctl " << command << ": " << message << "\n";
        throw CLI::RuntimeError(2);
    };
    if (!options.zone_file.empty()) {
        auto zone = std::make_unique<dns::StaticResolver>();
        if (auto loaded = zone->load_file(options.zone_file); !loaded) {
            fail(fmt::format("--dns-zone: {}", loaded.error().describe()));
        }
        return zone;
    }
    dns::UnboundOptions o;
    o.forwarders = options.dns_servers;
    o.query_timeout = std::chrono::milliseconds(options.timeout_ms);
    auto unbound = dns::UnboundResolver::create(o);
    if (!unbound) {
        fail(fmt::format("resolver: {}", unbound.error().describe()));
    }
    return std::move(*unbound);
}

}  // namespace mailwarden::ctl
