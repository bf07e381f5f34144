// preflight.cpp - the outbound DMARC preflight; see preflight.hpp.
#include "auth/preflight.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "util/ascii.hpp"

namespace mailwarden::auth {

namespace {

std::string domain_of(std::string_view address) {
    const auto at = address.rfind('@');
    std::string domain =
        util::to_lower(at == std::string_view::npos ? std::string_view{} : address.substr(at + 1));
    if (domain.ends_with('.')) {
        domain.pop_back();
    }
    return domain;
}

std::string lower_domain(std::string_view domain) {
    std::string d = util::to_lower(domain);
    if (d.ends_with('.')) {
        d.pop_back();
    }
    return d;
}

}  // namespace

std::string_view to_string(PreflightVerdict verdict) noexcept {
    switch (verdict) {
        case PreflightVerdict::Pass:
            return "pass";
        case PreflightVerdict::WouldFail:
            return "would-fail";
        case PreflightVerdict::Weak:
            return "weak";
        case PreflightVerdict::NoPolicy:
            return "no-policy";
        case PreflightVerdict::Unknown:
            return "unknown";
    }
    return "unknown";
}

Preflight::Preflight(const dmarc::Evaluator& dmarc, const spf::Evaluator& spf,
                     PreflightSettings settings)
    : dmarc_(&dmarc), spf_(&spf), settings_(std::move(settings)) {}

bool Preflight::aligned(std::string_view a, std::string_view b, bool strict) const {
    if (a.empty() || b.empty()) {
        return false;
    }
    if (util::iequals(a, b)) {
        return true;
    }
    return !strict &&
           util::iequals(dmarc_->organizational_domain(a), dmarc_->organizational_domain(b));
}

PreflightOutcome Preflight::check(const PreflightInput& input) const {
    PreflightOutcome out;
    const std::string author = lower_domain(input.author_domain);
    const dmarc::Outcome policy = dmarc_->discover_policy(author);
    out.policy_domain = policy.policy_domain;
    if (policy.result == dmarc::Result::TempError) {
        out.reason =
            fmt::format("the DMARC policy of {} could not be looked up: {}", author, policy.reason);
        return out;
    }
    if (!policy.record) {
        out.verdict = PreflightVerdict::NoPolicy;
        out.reason = fmt::format("{} publishes no DMARC policy", author);
        return out;
    }
    const dmarc::Record& record = *policy.record;

    // SPF: the receiver checks the envelope domain against the address it sees.
    const std::string envelope_domain = domain_of(input.envelope_sender);
    out.spf_domain_aligned = aligned(envelope_domain, author, record.aspf_strict);
    std::string spf_fact;
    if (envelope_domain.empty()) {
        spf_fact = "the envelope sender is empty, so SPF cannot align";
    } else if (settings_.outbound_ips.empty()) {
        spf_fact = "outbound_ips is not configured, so SPF was not predicted";
    } else {
        for (const auto& range : settings_.outbound_ips) {
            const auto result =
                spf_->check_host(range.base(), envelope_domain, input.envelope_sender, "").result;
            if (result != spf::Result::Pass) {
                out.unauthorised_ips.push_back(range.base().to_string());
            }
        }
        out.spf_authorised = out.unauthorised_ips.empty();
        spf_fact = out.spf_authorised
                       ? fmt::format("SPF of {} passes for every outbound address", envelope_domain)
                       : fmt::format("SPF of {} does not pass for {}", envelope_domain,
                                     fmt::join(out.unauthorised_ips, ", "));
        if (!out.spf_domain_aligned) {
            spf_fact += fmt::format(" and {} is not aligned with {}", envelope_domain, author);
        }
    }
    const bool spf_ok = out.spf_authorised && out.spf_domain_aligned;

    // DKIM: a signature already on the message, or one the site's signer will add.
    for (const auto& d : input.signature_domains) {
        if (aligned(d, author, record.adkim_strict)) {
            out.dkim_aligned = true;
            out.dkim_domain = lower_domain(d);
            break;
        }
    }
    if (!out.dkim_aligned) {
        for (const auto& d : settings_.dkim_signing_domains) {
            if (aligned(d, author, record.adkim_strict)) {
                out.dkim_aligned = true;
                out.dkim_domain = d;
                break;
            }
        }
    }
    const std::string dkim_fact =
        out.dkim_aligned ? fmt::format(
                               "an aligned DKIM signature (d={}) is present or will be "
                               "added",
                               out.dkim_domain)
                         : fmt::format(
                               "no DKIM signature aligned with {} is present or will be "
                               "added",
                               author);

    out.disposition = policy.disposition;  // what a failing message gets (t=y lowers it)
    if (spf_ok || out.dkim_aligned) {
        out.verdict = PreflightVerdict::Pass;
    } else if (settings_.outbound_ips.empty() && !out.dkim_aligned) {
        out.verdict = PreflightVerdict::Unknown;
    } else if (out.disposition == dmarc::Policy::None) {
        out.verdict = PreflightVerdict::Weak;
    } else {
        out.verdict = PreflightVerdict::WouldFail;
    }
    out.reason = fmt::format("DMARC preflight {} for {} (p={} at {}): {}; {}",
                             to_string(out.verdict), author, dmarc::to_string(policy.policy),
                             policy.policy_domain, spf_fact, dkim_fact);
    if (out.verdict == PreflightVerdict::WouldFail) {
        const bool reject = out.disposition == dmarc::Policy::Reject;
        out.sender_text = fmt::format(
            "Your message From: {} would be {} by the recipients: {} publishes a DMARC {} "
            "policy and this server is not authorised to send for it",
            input.author_address.empty() ? author : input.author_address,
            reject ? "rejected" : "put in spam", author, reject ? "reject" : "quarantine");
    }
    return out;
}

}  // namespace mailwarden::auth
