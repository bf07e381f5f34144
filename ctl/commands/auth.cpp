// auth.cpp - `mailwardenctl auth`: the authentication checks of the milter on a stored
// message. It uses the same evaluators as the daemon (auth/spf, auth/dkim, auth/dmarc,
// auth/preflight, auth/results) with DNS from --dns-zone or a resolver; it never touches
// the daemon or its store.
#include "commands/auth.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "auth/dkim/verifier.hpp"
#include "auth/dmarc/evaluator.hpp"
#include "auth/preflight.hpp"
#include "auth/results.hpp"
#include "auth/spf/evaluator.hpp"
#include "dns_options.hpp"
#include "message/author.hpp"
#include "util/ascii.hpp"
#include "util/clock.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::ctl {

namespace {

namespace dkim = auth::dkim;
namespace dmarc = auth::dmarc;
namespace spf = auth::spf;

constexpr std::uintmax_t kMaxMessageBytes = 64u << 20;

[[noreturn]] void fail_usage(const std::string& message) {
    std::cerr << "mailwardenctl auth: " << message << "\n";
    throw CLI::RuntimeError(2);
}

struct AuthArgs {
    std::string file;
    std::string client_ip;
    std::string helo;
    std::string mail_from;
    std::string authserv_id = "mailwardenctl";
    std::vector<std::string> outbound_ips;
    std::vector<std::string> signing_domains;
    std::string psl_file;
    DnsOptions dns;
    bool json = false;
};

struct Field {
    std::string name;
    std::string value;  // after the colon, folds kept
};

// The header fields of a message (up to the first empty line); CRLF or LF line ends.
std::vector<Field> header_fields(std::string_view message) {
    std::vector<Field> fields;
    std::size_t pos = 0;
    while (pos < message.size()) {
        std::size_t end = message.find('\n', pos);
        if (end == std::string_view::npos) {
            end = message.size();
        }
        std::string_view line = message.substr(pos, end - pos);
        const std::size_t next = end + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            break;  // end of the header
        }
        if ((line.front() == ' ' || line.front() == '\t') && !fields.empty()) {
            fields.back().value += "\r\n";
            fields.back().value += line;
        } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
            fields.push_back(Field{std::string(util::trim(line.substr(0, colon))),
                                   std::string(line.substr(colon + 1))});
        }
        pos = next;
    }
    return fields;
}

std::string read_message(const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
        fail_usage(fmt::format("{}: {}", path, ec.message()));
    }
    if (size > kMaxMessageBytes) {
        fail_usage(fmt::format("{}: {} bytes is larger than the {} MB this command reads", path,
                               size, kMaxMessageBytes >> 20));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail_usage(fmt::format("{}: cannot be read", path));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The envelope sender: --mail-from, else the message's Return-Path, else null.
std::string envelope_sender(const AuthArgs& args, const std::vector<Field>& fields) {
    if (!args.mail_from.empty()) {
        return args.mail_from;
    }
    for (const auto& f : fields) {
        if (util::iequals(f.name, "Return-Path")) {
            return std::string(util::trim(f.value));
        }
    }
    return "";
}

nlohmann::json spf_json(const spf::Outcome& o) {
    return {{"result", std::string(to_string(o.result))},
            {"identity", std::string(to_string(o.identity))},
            {"domain", o.domain},
            {"sender", o.sender},
            {"mechanism", o.trace.decided_by},
            {"error", o.trace.error},
            {"explanation", o.explanation}};
}

nlohmann::json dkim_json(const std::vector<dkim::SignatureResult>& results) {
    auto out = nlohmann::json::array();
    for (const auto& r : results) {
        out.push_back({{"result", std::string(dkim::to_string(r.result))},
                       {"domain", r.domain},
                       {"selector", r.selector},
                       {"identity", r.identity},
                       {"algorithm", r.algorithm},
                       {"key_bits", r.key_bits},
                       {"body_length_limited", r.body_length_limited},
                       {"reason", r.reason}});
    }
    return out;
}

nlohmann::json dmarc_json(const dmarc::Outcome& o) {
    return {{"result", std::string(dmarc::to_string(o.result))},
            {"header_from", o.header_from},
            {"policy", std::string(dmarc::to_string(o.policy))},
            {"disposition", std::string(dmarc::to_string(o.disposition))},
            {"policy_domain", o.policy_domain},
            {"org_domain", o.org_domain},
            {"record", o.record ? o.record->text : ""},
            {"spf_aligned", o.spf_aligned},
            {"dkim_aligned", o.dkim_aligned},
            {"dns_queries", o.dns_queries},
            {"reason", o.reason}};
}

nlohmann::json preflight_json(const auth::PreflightOutcome& o) {
    return {{"verdict", std::string(to_string(o.verdict))},
            {"disposition", std::string(dmarc::to_string(o.disposition))},
            {"policy_domain", o.policy_domain},
            {"spf_domain_aligned", o.spf_domain_aligned},
            {"spf_authorised", o.spf_authorised},
            {"unauthorised_ips", o.unauthorised_ips},
            {"dkim_aligned", o.dkim_aligned},
            {"dkim_domain", o.dkim_domain},
            {"reason", o.reason},
            {"sender_text", o.sender_text}};
}

std::vector<util::Cidr> outbound_ranges(const AuthArgs& args, const util::IpAddress& client) {
    std::vector<util::Cidr> out;
    for (const auto& text : args.outbound_ips) {
        auto range = util::Cidr::parse(text);
        if (!range) {
            fail_usage(fmt::format("--outbound-ip {}: {}", text, range.error().message));
        }
        out.push_back(*range);
    }
    if (out.empty()) {
        out.push_back(util::Cidr::of(client, client.is_v4() ? 32 : 128));
    }
    return out;
}

void run(const AuthArgs& args) {
    auto ip = util::IpAddress::parse(args.client_ip);
    if (!ip) {
        fail_usage(fmt::format("--client-ip: {}", ip.error().message));
    }
    const std::string message = read_message(args.file);
    const auto fields = header_fields(message);
    const auto resolver = make_resolver(args.dns, "auth");
    util::SystemClock clock;

    // SPF, as the milter checks it at MAIL FROM.
    const std::string sender = envelope_sender(args, fields);
    spf::Options spf_options;
    spf_options.receiver = args.authserv_id;
    const spf::Evaluator spf_evaluator(*resolver, clock, spf_options);
    const spf::Outcome spf_outcome = spf_evaluator.check_mail_from(*ip, sender, args.helo);

    // Every DKIM signature.
    const auto dkim_results =
        dkim::verify_message(*resolver, message, dkim::Options{}, clock.now());

    // DMARC over those outcomes.
    dmarc::Options dmarc_options;
    if (!args.psl_file.empty()) {
        dmarc_options.method = dmarc::OrgDomainMethod::PublicSuffixList;
        dmarc_options.psl_file = args.psl_file;
    }
    std::string error;
    auto dmarc_evaluator = dmarc::Evaluator::create(*resolver, dmarc_options, &error);
    if (!dmarc_evaluator) {
        fail_usage(fmt::format("--psl {}: {}", args.psl_file, error));
    }
    std::vector<std::string_view> from_values;
    for (const auto& f : fields) {
        if (util::iequals(f.name, "From")) {
            from_values.push_back(f.value);
        }
    }
    dmarc::Outcome dmarc_outcome;
    std::vector<dmarc::DkimInput> dkim_inputs;
    for (const auto& r : dkim_results) {
        dkim_inputs.push_back({r.result, r.domain, r.selector});
    }
    const auto author = message::author_domain(from_values);
    if (author) {
        dmarc_outcome = dmarc_evaluator->evaluate(
            *author, dmarc::SpfInput{spf_outcome.result, spf_outcome.domain}, dkim_inputs);
    } else {
        dmarc_outcome.result = dmarc::Result::PermError;
        dmarc_outcome.reason = author.error().message;
    }

    // The outbound preflight, as if the message left from the outbound addresses.
    auth::PreflightSettings site;
    site.outbound_ips = outbound_ranges(args, *ip);
    for (const auto& d : args.signing_domains) {
        site.dkim_signing_domains.push_back(util::to_lower(d));
    }
    const auth::Preflight preflight(*dmarc_evaluator, spf_evaluator, site);
    auth::PreflightInput pin;
    pin.author_domain = author.value_or("");
    if (from_values.size() == 1) {
        pin.author_address = message::author_address(from_values.front()).value_or("");
    }
    pin.envelope_sender = spf_outcome.sender;
    for (const auto& r : dkim_results) {
        if (!r.domain.empty()) {
            pin.signature_domains.push_back(r.domain);
        }
    }
    const auto preflight_outcome = author ? preflight.check(pin) : auth::PreflightOutcome{};

    auth::AuthSummary summary;
    summary.spf = spf_outcome;
    summary.dkim = dkim_results;
    summary.dkim_evaluated = true;
    summary.dmarc = dmarc_outcome;
    const std::string header = auth::format_authentication_results(args.authserv_id, summary);

    if (args.json) {
        nlohmann::json out = {{"spf", spf_json(spf_outcome)},
                              {"dkim", dkim_json(dkim_results)},
                              {"dmarc", dmarc_json(dmarc_outcome)},
                              {"preflight", preflight_json(preflight_outcome)},
                              {"authentication_results", header}};
        std::cout << out.dump(2) << "\n";
        return;
    }
    std::cout << fmt::format(
        "spf:        {} ({} {}){}\n", to_string(spf_outcome.result),
        to_string(spf_outcome.identity), spf_outcome.domain,
        spf_outcome.trace.decided_by.empty() ? "" : " by " + spf_outcome.trace.decided_by);
    if (dkim_results.empty()) {
        std::cout << "dkim:       none (no DKIM-Signature)\n";
    }
    for (const auto& r : dkim_results) {
        std::cout << fmt::format("dkim:       {} d={} s={} a={}{}{}\n", dkim::to_string(r.result),
                                 r.domain, r.selector, r.algorithm,
                                 r.key_bits ? fmt::format(" ({} bits)", r.key_bits) : "",
                                 r.reason.empty() ? "" : ": " + r.reason);
    }
    std::cout << fmt::format("dmarc:      {} header.from={} p={}{}: {}\n",
                             dmarc::to_string(dmarc_outcome.result),
                             dmarc_outcome.header_from.empty() ? "-" : dmarc_outcome.header_from,
                             dmarc::to_string(dmarc_outcome.policy),
                             dmarc_outcome.policy_domain.empty()
                                 ? ""
                                 : " (record at _dmarc." + dmarc_outcome.policy_domain + ")",
                             dmarc_outcome.reason);
    std::cout << fmt::format("preflight:  {}: {}\n", to_string(preflight_outcome.verdict),
                             preflight_outcome.reason);
    if (!preflight_outcome.sender_text.empty()) {
        std::cout << "            " << preflight_outcome.sender_text << "\n";
    }
    std::cout << "header:     Authentication-Results: " << header << "\n";
}

}  // namespace

void add_auth_command(CLI::App& app) {
    auto args = std::make_shared<AuthArgs>();
    auto* cmd = app.add_subcommand(
        "auth", "run SPF, DKIM, DMARC and the outbound preflight on a stored message");
    cmd->add_option("FILE", args->file, "the message (RFC 5322, CRLF or LF line ends)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--client-ip", args->client_ip, "the SMTP client's address")->required();
    cmd->add_option("--helo", args->helo, "the HELO/EHLO name");
    cmd->add_option("--mail-from", args->mail_from,
                    "the envelope sender (default: the Return-Path field, else null)");
    cmd->add_option("--authserv-id", args->authserv_id, "the authserv-id of the header")
        ->capture_default_str();
    cmd->add_option("--outbound-ip", args->outbound_ips,
                    "preflight: an address or range mail leaves from (default --client-ip)");
    cmd->add_option("--signing-domain", args->signing_domains,
                    "preflight: a domain a later signer adds DKIM signatures for");
    cmd->add_option("--psl", args->psl_file,
                    "use the RFC 7489 Public Suffix List method with this file, not the tree walk")
        ->check(CLI::ExistingFile);
    add_dns_options(*cmd, args->dns);
    cmd->add_flag("--json", args->json,
                  "print JSON: spf, dkim[], dmarc, preflight, authentication_results");
    cmd->callback([args] { run(*args); });
}

}  // namespace mailwarden::ctl
