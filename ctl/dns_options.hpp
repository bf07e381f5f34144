// dns_options.hpp - the DNS options the offline checks of mailwardenctl share
// (--dns-zone, --dns-server, --timeout-ms) and the resolver they select.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "dns/resolver.hpp"

namespace mailwarden::ctl {

/// Where DNS answers come from.
struct DnsOptions {
    std::string zone_file;                 ///< a YAML zone (SPF suite zonedata format)
    std::vector<std::string> dns_servers;  ///< HOST or HOST@PORT forwarders
    int timeout_ms = 5000;                 ///< per query
};

/// Adds --dns-zone, --dns-server and --timeout-ms to `cmd`.
void add_dns_options(CLI::App& cmd, DnsOptions& options);

/// A StaticResolver on the zone file, else an UnboundResolver on the forwarders (or the
/// system's resolv.conf). Exits with status 2 and a message naming `command` when unusable.
std::unique_ptr<dns::Resolver> make_resolver(const DnsOptions& options, std::string_view command);

}  // namespace mailwarden::ctl
