// spf.cpp - `mailwardenctl spf`: check_host() for a domain and client IP, with the trace.
//
// Uses a StaticResolver on --dns-zone (the SPF suite's zonedata format), else an
// UnboundResolver on --dns-server forwarders or the system resolv.conf. Read-only: it never
// touches the daemon, its store or its cache.
#include "commands/spf.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/spf/evaluator.hpp"
#include "auth/spf/received_spf.hpp"
#include "dns_options.hpp"
#include "util/clock.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::ctl {

namespace {

// CLI11's App::exit() prints nothing for a RuntimeError, so say why before leaving.
[[noreturn]] void fail_usage(const std::string& message) {
    std::cerr << "mailwardenctl spf: " << message << "\n";
    throw CLI::RuntimeError(2);
}

struct SpfArgs {
    std::string domain;
    std::string ip;
    std::string sender;
    std::string helo;
    DnsOptions dns;
    bool json = false;
};

nlohmann::json to_json(const auth::spf::Outcome& outcome, const std::string& received_spf) {
    nlohmann::json visited = nlohmann::json::array();
    for (const auto& v : outcome.trace.visited) {
        visited.push_back({{"domain", v.domain}, {"record", v.record}, {"via", v.via}});
    }
    return {
        {"result", std::string(to_string(outcome.result))},
        {"explanation", outcome.explanation},
        {"mechanism", outcome.trace.decided_by},
        {"mechanism_domain", outcome.trace.decided_in},
        {"include_chain", outcome.trace.include_chain},
        {"dns_lookups", outcome.trace.dns_lookups},
        {"void_lookups", outcome.trace.void_lookups},
        {"identity", std::string(to_string(outcome.identity))},
        {"domain", outcome.domain},
        {"sender", outcome.sender},
        {"record", outcome.trace.record},
        {"error", outcome.trace.error},
        {"error_term", outcome.trace.error_term},
        {"records", visited},
        {"received_spf", received_spf},
    };
}

void run(const SpfArgs& args) {
    auto ip = util::IpAddress::parse(args.ip);
    if (!ip) {
        fail_usage(fmt::format("IP: {}", ip.error().message));
    }
    const auto resolver = make_resolver(args.dns, "spf");
    const std::string sender = args.sender.empty() ? "postmaster@" + args.domain : args.sender;
    const std::string helo = args.helo.empty() ? args.domain : args.helo;
    util::SystemClock clock;
    auth::spf::Options options;
    options.time_limit =
        std::max(auth::spf::kDefaultTimeLimit, std::chrono::milliseconds(args.dns.timeout_ms));
    const auth::spf::Evaluator evaluator(*resolver, clock, options);
    const auto outcome = evaluator.check_host(*ip, args.domain, sender, helo);
    const std::string received = auth::spf::received_spf_value(
        outcome, auth::spf::ReceivedSpfContext{*ip, sender, helo, "mailwardenctl"});
    if (args.json) {
        std::cout << to_json(outcome, received).dump(2) << "\n";
        return;
    }
    std::cout << outcome.full_trace();
    std::cout << "header:       Received-SPF: " << received << "\n";
}

}  // namespace

void add_spf_command(CLI::App& app) {
    auto args = std::make_shared<SpfArgs>();
    auto* cmd = app.add_subcommand(
        "spf", "evaluate SPF (RFC 7208) for a domain and client IP and show why");
    cmd->add_option("DOMAIN", args->domain, "the domain to check (MAIL FROM or HELO domain)")
        ->required();
    cmd->add_option("IP", args->ip, "the client IP address (IPv4 or IPv6)")->required();
    cmd->add_option("--sender", args->sender,
                    "the MAIL FROM address for macros (default postmaster@DOMAIN)");
    cmd->add_option("--helo", args->helo, "the HELO/EHLO name for %{h} (default DOMAIN)");
    add_dns_options(*cmd, args->dns);
    cmd->add_flag("--json", args->json,
                  "print JSON: result, explanation, mechanism, dns_lookups, void_lookups, ...");
    cmd->callback([args] { run(*args); });
}

}  // namespace mailwarden::ctl
