// evaluator.cpp - check_host() (RFC 7208 §4-§8) with its trace.
#include "auth/spf/evaluator.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "auth/spf/macro.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::spf {

namespace {

constexpr std::string_view kPostmaster = "postmaster";

enum class Match { Yes, No, TempError, PermError };

// A name the evaluator may put on the wire: labels of 1-63 octets (printable ASCII or space,
// which %_ produces), <= 253 octets in all.
bool is_queryable_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxDomainOctets) {
        return false;
    }
    std::size_t label = 0;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '.') {
            if (label == 0) {
                return false;
            }
            label = 0;
            continue;
        }
        if (u < 0x20 || u >= 0x7f || ++label > 63) {
            return false;
        }
    }
    return label != 0;
}

std::string strip_dot(std::string_view name) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    return std::string(name);
}

bool ends_with_domain(std::string_view name, std::string_view domain) {
    // name equals domain, or is a subdomain of it (RFC 7208 §5.5), case-insensitively.
    if (name.size() == domain.size()) {
        return util::iequals(name, domain);
    }
    return name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
           util::iequals(name.substr(name.size() - domain.size()), domain);
}

Result qualifier_result(Qualifier q) {
    switch (q) {
        case Qualifier::Pass:
            return Result::Pass;
        case Qualifier::Fail:
            return Result::Fail;
        case Qualifier::SoftFail:
            return Result::SoftFail;
        case Qualifier::Neutral:
            return Result::Neutral;
    }
    return Result::Neutral;
}

std::string sanitize_for_comment(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u > 0x7e || c == '(' || c == ')' || c == '\\') ? '?' : c;
    }
    return out;
}

}  // namespace

std::string_view to_string(Identity identity) noexcept {
    return identity == Identity::Helo ? "helo" : "mailfrom";
}

bool is_checkable_domain(std::string_view domain) noexcept {
    // RFC 7208 §4.3: a malformed or single-label domain gives "none".
    if (!domain.empty() && domain.back() == '.') {
        domain.remove_suffix(1);
    }
    if (domain.empty() || domain.size() > kMaxDomainOctets || domain.front() == '[' ||
        domain.find('.') == std::string_view::npos || domain.find(' ') != std::string_view::npos) {
        return false;
    }
    if (!is_queryable_name(domain)) {
        return false;
    }
    // An all-numeric last label is an address, not a domain name.
    const auto top = domain.substr(domain.rfind('.') + 1);
    return !std::all_of(top.begin(), top.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One check_host() evaluation with its budget and trace; not shared between threads.
class Evaluation {
  public:
    Evaluation(const Evaluator& evaluator, const util::IpAddress& ip, std::string_view sender,
               std::string_view helo)
        : ev_(evaluator),
          budget_(*evaluator.clock_, evaluator.options_.time_limit),
          ip_(ip.unmapped()),
          sender_(sender),
          helo_(helo) {
        const auto at = sender_.rfind('@');
        local_part_ = at == std::string::npos ? std::string(kPostmaster) : sender_.substr(0, at);
        sender_domain_ = at == std::string::npos ? sender_ : sender_.substr(at + 1);
    }

    struct HostResult {
        Result result = Result::None;
        std::string explanation;
    };

    HostResult check_host(const std::string& domain, int depth, const std::string& via);

    /// Copies the budget's counters into the trace.
    void finish() {
        trace.dns_lookups = budget_.dns_lookups();
        trace.void_lookups = budget_.void_lookups();
    }

    Trace trace;

  private:
    MacroContext context(std::string_view domain);
    std::optional<std::string> expand_target(const Mechanism& m, std::string_view domain,
                                             const std::string& spec);
    bool out_of_time(std::string_view term);
    Match fail_with(Match kind, std::string_view term, std::string message);
    FetchedRecord fetch(const std::string& domain, std::optional<Result>& error);
    Match match(const Mechanism& m, const std::string& domain, int depth);
    Match match_addresses(const Mechanism& m, const std::string& target, bool count_void);
    Match match_mx(const Mechanism& m, const std::string& target);
    Match match_ptr(const Mechanism& m, const std::string& target);
    Match match_exists(const Mechanism& m, const std::string& target);
    Match match_include(const Mechanism& m, const std::string& target, int depth);
    Match on_void(const Mechanism& m, const std::string& target);
    const std::vector<std::string>& validated_names();
    std::string validated_domain(std::string_view domain);
    std::string explain(const Record& record, std::string_view domain);
    void decide(const std::string& term, const std::string& domain);

    const Evaluator& ev_;
    LookupBudget budget_;
    util::IpAddress ip_;
    std::string sender_;
    std::string local_part_;
    std::string sender_domain_;
    std::string helo_;
    std::vector<std::string> chain_;
    std::optional<std::vector<std::string>> validated_;
};

MacroContext Evaluation::context(std::string_view domain) {
    MacroContext c{.ip = ip_,
                   .sender = sender_,
                   .local_part = local_part_,
                   .sender_domain = sender_domain_,
                   .domain = domain,
                   .helo = helo_,
                   .receiver = ev_.options_.receiver,
                   .timestamp = std::chrono::duration_cast<std::chrono::seconds>(
                                    ev_.clock_->now().time_since_epoch())
                                    .count(),
                   .validated_domain = {}};
    c.validated_domain = [this, d = std::string(domain)] { return validated_domain(d); };
    return c;
}

Match Evaluation::fail_with(Match kind, std::string_view term, std::string message) {
    if (trace.error.empty()) {
        trace.error_term = std::string(term);
        trace.error = std::move(message);
    }
    return kind;
}

bool Evaluation::out_of_time(std::string_view term) {
    if (!budget_.expired()) {
        return false;
    }
    fail_with(Match::TempError, term,
              fmt::format("evaluation ran past its {} ms limit", ev_.options_.time_limit.count()));
    return true;
}

void Evaluation::decide(const std::string& term, const std::string& domain) {
    trace.decided_by = term;
    trace.decided_in = domain;
    trace.include_chain = chain_;
}

FetchedRecord Evaluation::fetch(const std::string& domain, std::optional<Result>& error) {
    if (ev_.cache_ != nullptr) {
        if (auto cached = ev_.cache_->find(domain)) {
            return std::move(*cached);
        }
    }
    if (out_of_time(domain)) {
        error = Result::TempError;
        return {};
    }
    const auto answer = ev_.resolver_->txt(domain);
    FetchedRecord fetched;
    if (dns::is_temporary(answer.rcode)) {  // RFC 7208 §4.4: DNS error -> temperror
        fail_with(Match::TempError, domain,
                  fmt::format("TXT lookup of {}: {}", domain, dns::to_string(answer.rcode)));
        error = Result::TempError;
        return fetched;
    }
    int count = 0;
    std::string text;
    for (const auto& txt : answer.records) {
        std::string joined = txt.text();  // RFC 7208 §3.3: strings joined without spaces
        if (is_spf_record(joined)) {
            ++count;
            text = std::move(joined);
        }
    }
    if (count == 0) {  // RFC 7208 §4.5: no record -> none
        fetched.kind = FetchedRecord::Kind::NoRecord;
    } else if (count > 1) {  // RFC 7208 §4.5: more than one record -> permerror
        fetched.kind = FetchedRecord::Kind::Multiple;
    } else {
        auto parsed = parse_record(text);
        fetched.text = text;
        if (parsed) {
            fetched.kind = FetchedRecord::Kind::Found;
            fetched.record = std::make_shared<const Record>(std::move(*parsed));
        } else {
            fetched.kind = FetchedRecord::Kind::Malformed;
            fetched.error = parsed.error();
        }
    }
    if (ev_.cache_ != nullptr) {
        ev_.cache_->store(domain, fetched, answer.ttl);
    }
    return fetched;
}

Evaluation::HostResult Evaluation::check_host(const std::string& domain_in, int depth,
                                              const std::string& via) {
    const std::string domain = strip_dot(domain_in);
    if (!is_checkable_domain(domain)) {  // RFC 7208 §4.3
        trace.visited.push_back({domain, "", via});
        if (depth == 0) {
            trace.error_term = domain;
            trace.error = "not a valid multi-label domain name";
        }
        return {Result::None, {}};
    }
    chain_.push_back(domain);
    struct Pop {
        std::vector<std::string>& v;
        ~Pop() { v.pop_back(); }
    } pop{chain_};

    std::optional<Result> error;
    const FetchedRecord fetched = fetch(domain, error);
    if (error) {
        return {*error, {}};
    }
    trace.visited.push_back({domain, fetched.text, via});
    if (depth == 0) {
        trace.record = fetched.text;
    }
    switch (fetched.kind) {
        case FetchedRecord::Kind::NoRecord:
            if (depth == 0) {
                trace.error = fmt::format("{} publishes no SPF record", domain);
            }
            return {Result::None, {}};
        case FetchedRecord::Kind::Multiple:
            fail_with(Match::PermError, domain,
                      fmt::format("{} publishes more than one SPF record", domain));
            return {Result::PermError, {}};
        case FetchedRecord::Kind::Malformed:
            fail_with(
                Match::PermError, fetched.error.term.empty() ? fetched.text : fetched.error.term,
                fmt::format("syntax error in the record of {}: {}", domain, fetched.error.reason));
            return {Result::PermError, {}};
        case FetchedRecord::Kind::Found:
            break;
    }
    const Record& record = *fetched.record;
    for (const Mechanism& m : record.mechanisms) {
        switch (match(m, domain, depth)) {
            case Match::No:
                continue;
            case Match::TempError:
                return {Result::TempError, {}};
            case Match::PermError:
                return {Result::PermError, {}};
            case Match::Yes:
                break;
        }
        if (m.kind != MechanismKind::Include) {
            decide(m.text, domain);  // an include keeps the inner term that matched
        }
        const Result result = qualifier_result(m.qualifier);
        if (result == Result::Fail) {
            return {result, explain(record, domain)};  // RFC 7208 §6.2
        }
        return {result, {}};
    }
    if (record.redirect) {  // RFC 7208 §6.1: only when no mechanism matched
        const std::string term = "redirect=" + *record.redirect;
        if (!budget_.charge_term()) {
            fail_with(Match::PermError, term,
                      fmt::format("more than {} DNS-querying terms", kMaxDnsTerms));
            return {Result::PermError, {}};
        }
        auto target = expand(*record.redirect, context(domain), MacroMode::DomainSpec);
        if (!target) {
            fail_with(Match::PermError, term, target.error().message);
            return {Result::PermError, {}};
        }
        HostResult inner = check_host(truncate_domain(strip_dot(*target)), depth + 1, term);
        if (inner.result == Result::None) {  // RFC 7208 §6.1: no record at target
            fail_with(Match::PermError, term,
                      fmt::format("redirect target {} has no SPF record", *target));
            return {Result::PermError, {}};
        }
        return inner;
    }
    decide("(default)", domain);  // RFC 7208 §4.7: no match, no redirect -> neutral
    return {Result::Neutral, {}};
}

std::optional<std::string> Evaluation::expand_target(const Mechanism& m, std::string_view domain,
                                                     const std::string& spec) {
    if (spec.empty()) {
        return std::string(domain);
    }
    auto expanded = expand(spec, context(domain), MacroMode::DomainSpec);
    if (!expanded) {
        fail_with(Match::PermError, m.text, expanded.error().message);
        return std::nullopt;
    }
    return truncate_domain(strip_dot(*expanded));  // RFC 7208 §7.3
}

Match Evaluation::match(const Mechanism& m, const std::string& domain, int depth) {
    switch (m.kind) {
        case MechanismKind::All:
            return Match::Yes;
        case MechanismKind::Ip4:
        case MechanismKind::Ip6:
            // RFC 7208 §5.6: ip4 never matches an IPv6 client and vice versa.
            return m.network->contains(ip_) && m.network->base().is_v4() == ip_.is_v4() ? Match::Yes
                                                                                        : Match::No;
        default:
            break;
    }
    if (!budget_.charge_term()) {  // RFC 7208 §4.6.4
        return fail_with(Match::PermError, m.text,
                         fmt::format("more than {} DNS-querying terms", kMaxDnsTerms));
    }
    if (out_of_time(m.text)) {
        return Match::TempError;
    }
    const auto target = expand_target(m, domain, m.domain_spec);
    if (!target) {
        return Match::PermError;
    }
    switch (m.kind) {
        case MechanismKind::A:
            return match_addresses(m, *target, true);
        case MechanismKind::Mx:
            return match_mx(m, *target);
        case MechanismKind::Ptr:
            return match_ptr(m, *target);
        case MechanismKind::Exists:
            return match_exists(m, *target);
        case MechanismKind::Include:
            return match_include(m, *target, depth);
        default:
            return Match::No;
    }
}

Match Evaluation::on_void(const Mechanism& m, const std::string& target) {
    if (!budget_.charge_void()) {  // RFC 7208 §4.6.4: more than 2 void lookups
        return fail_with(
            Match::PermError, m.text,
            fmt::format("more than {} void lookups (last: {})", kMaxVoidLookups, target));
    }
    return Match::No;
}

Match Evaluation::match_addresses(const Mechanism& m, const std::string& target, bool count_void) {
    if (!is_queryable_name(target)) {
        return Match::No;  // cannot exist in the DNS
    }
    const auto answer = ip_.is_v4() ? ev_.resolver_->a(target) : ev_.resolver_->aaaa(target);
    if (dns::is_temporary(answer.rcode)) {
        return fail_with(Match::TempError, m.text,
                         fmt::format("{} lookup of {}: {}", ip_.is_v4() ? "A" : "AAAA", target,
                                     dns::to_string(answer.rcode)));
    }
    if (answer.records.empty()) {
        return count_void ? on_void(m, target) : Match::No;
    }
    const int length = ip_.is_v4() ? m.cidr4 : m.cidr6;  // RFC 7208 §5.3 dual-cidr-length
    for (const auto& address : answer.records) {
        if (address.is_v4() == ip_.is_v4() && util::Cidr::of(address, length).contains(ip_)) {
            return Match::Yes;
        }
    }
    return Match::No;
}

Match Evaluation::match_mx(const Mechanism& m, const std::string& target) {
    if (!is_queryable_name(target)) {
        return Match::No;
    }
    const auto answer = ev_.resolver_->mx(target);
    if (dns::is_temporary(answer.rcode)) {
        return fail_with(Match::TempError, m.text,
                         fmt::format("MX lookup of {}: {}", target, dns::to_string(answer.rcode)));
    }
    if (answer.records.empty()) {
        return on_void(m, target);
    }
    if (answer.records.size() > static_cast<std::size_t>(kMaxMxNames)) {  // RFC 7208 §4.6.4
        return fail_with(Match::PermError, m.text,
                         fmt::format("{} has {} MX names, more than {}", target,
                                     answer.records.size(), kMaxMxNames));
    }
    for (const auto& mx : answer.records) {
        if (mx.exchange.empty()) {
            continue;  // RFC 7505 null MX
        }
        if (out_of_time(m.text)) {
            return Match::TempError;
        }
        const Match r = match_addresses(m, mx.exchange, false);
        if (r != Match::No) {
            return r;
        }
    }
    return Match::No;
}

const std::vector<std::string>& Evaluation::validated_names() {
    // RFC 7208 §5.5: PTR names of <ip> whose A/AAAA records include <ip>, at most 10.
    if (validated_) {
        return *validated_;
    }
    validated_.emplace();
    if (budget_.expired()) {
        return *validated_;
    }
    const auto answer = ev_.resolver_->ptr(ip_);
    int considered = 0;
    for (const auto& name : answer.records) {
        if (++considered > kMaxPtrNames) {  // RFC 7208 §4.6.4: ignore the rest
            break;
        }
        if (!is_queryable_name(name) || budget_.expired()) {
            continue;
        }
        const auto addresses = ip_.is_v4() ? ev_.resolver_->a(name) : ev_.resolver_->aaaa(name);
        // RFC 7208 §5.5: a DNS error on this lookup skips the name.
        if (std::find(addresses.records.begin(), addresses.records.end(), ip_) !=
            addresses.records.end()) {
            validated_->push_back(name);
        }
    }
    return *validated_;
}

std::string Evaluation::validated_domain(std::string_view domain) {
    // RFC 7208 §7.3 %{p}: prefer <domain> itself, then a subdomain, then any name.
    const auto& names = validated_names();
    for (const auto& name : names) {
        if (util::iequals(name, domain)) {
            return name;
        }
    }
    for (const auto& name : names) {
        if (ends_with_domain(name, domain)) {
            return name;
        }
    }
    return names.empty() ? std::string("unknown") : names.front();
}

Match Evaluation::match_ptr(const Mechanism& /*m*/, const std::string& target) {
    // RFC 7208 §5.5: a DNS error on the PTR lookup means no match.
    for (const auto& name : validated_names()) {
        if (ends_with_domain(name, target)) {
            return Match::Yes;
        }
    }
    return Match::No;
}

Match Evaluation::match_exists(const Mechanism& m, const std::string& target) {
    if (!is_queryable_name(target)) {
        return Match::No;
    }
    const auto answer = ev_.resolver_->a(target);  // RFC 7208 §5.7: always an A query
    if (dns::is_temporary(answer.rcode)) {
        return fail_with(Match::TempError, m.text,
                         fmt::format("A lookup of {}: {}", target, dns::to_string(answer.rcode)));
    }
    if (answer.records.empty()) {
        return on_void(m, target);
    }
    return Match::Yes;
}

Match Evaluation::match_include(const Mechanism& m, const std::string& target, int depth) {
    const HostResult inner = check_host(target, depth + 1, m.text);
    switch (inner.result) {  // RFC 7208 §5.2 table
        case Result::Pass:
            return Match::Yes;
        case Result::Fail:
        case Result::SoftFail:
        case Result::Neutral:
            return Match::No;
        case Result::TempError:
            return Match::TempError;
        case Result::None:
            return fail_with(Match::PermError, m.text,
                             fmt::format("included domain {} has no SPF record", target));
        case Result::PermError:
            return Match::PermError;
    }
    return Match::PermError;
}

std::string Evaluation::explain(const Record& record, std::string_view domain) {
    const auto fallback = [&] {
        auto text =
            expand(ev_.options_.default_explanation, context(domain), MacroMode::Explanation);
        return text ? *text : ev_.options_.default_explanation;
    };
    if (!record.exp) {
        return fallback();
    }
    // RFC 7208 §6.2: any problem with exp= (macro error, DNS error, not exactly one TXT
    // record, bad text) silently gives the default explanation. Not counted in the budget.
    auto name = expand(*record.exp, context(domain), MacroMode::DomainSpec);
    if (!name) {
        return fallback();
    }
    const std::string target = truncate_domain(strip_dot(*name));
    if (!is_queryable_name(target) || budget_.expired()) {
        return fallback();
    }
    const auto answer = ev_.resolver_->txt(target);
    if (answer.records.size() != 1) {
        return fallback();
    }
    auto text = expand(answer.records.front().text(), context(domain), MacroMode::Explanation);
    if (!text) {
        return fallback();
    }
    return *text;
}

Evaluator::Evaluator(dns::Resolver& resolver, const util::Clock& clock, Options options,
                     RecordCache* cache)
    : resolver_(&resolver), clock_(&clock), options_(std::move(options)), cache_(cache) {}

Outcome Evaluator::check_host(const util::IpAddress& ip, std::string_view domain,
                              std::string_view sender, std::string_view helo) const {
    Evaluation evaluation(*this, ip, sender, helo);
    auto host = evaluation.check_host(std::string(domain), 0, "");
    evaluation.finish();
    Outcome outcome;
    outcome.result = host.result;
    outcome.explanation = std::move(host.explanation);
    outcome.domain = strip_dot(domain);
    outcome.sender = std::string(sender);
    outcome.trace = std::move(evaluation.trace);
    if (host.result == Result::None || host.result == Result::TempError ||
        host.result == Result::PermError) {
        // No term decided; a term matched inside an include before the error is noise.
        outcome.trace.decided_by.clear();
        outcome.trace.decided_in.clear();
        outcome.trace.include_chain.clear();
    }
    return outcome;
}

Outcome Evaluator::check_mail_from(const util::IpAddress& ip, std::string_view mail_from,
                                   std::string_view helo) const {
    std::string_view address = util::trim(mail_from);
    if (!address.empty() && address.front() == '<') {
        address.remove_prefix(1);
        if (!address.empty() && address.back() == '>') {
            address.remove_suffix(1);
        }
    }
    const auto at = address.rfind('@');
    if (address.empty() || at == std::string_view::npos) {
        return check_helo(ip, helo);  // RFC 7208 §2.4: null reverse-path -> HELO identity
    }
    std::string local(address.substr(0, at));
    const std::string_view domain = address.substr(at + 1);
    if (local.empty()) {
        local = kPostmaster;  // RFC 7208 §4.3
    }
    Outcome outcome = check_host(ip, domain, local + "@" + std::string(domain), helo);
    outcome.identity = Identity::MailFrom;
    return outcome;
}

Outcome Evaluator::check_helo(const util::IpAddress& ip, std::string_view helo) const {
    Outcome outcome = check_host(ip, helo, fmt::format("{}@{}", kPostmaster, helo), helo);
    outcome.identity = Identity::Helo;
    return outcome;
}

std::string Outcome::short_trace() const {
    std::string out;
    if (!trace.decided_by.empty()) {
        out += fmt::format("mechanism={}", sanitize_for_comment(trace.decided_by));
        if (!trace.decided_in.empty() && trace.decided_in != domain) {
            out += fmt::format(" in={}", sanitize_for_comment(trace.decided_in));
        }
        if (trace.include_chain.size() > 1) {
            std::string chain;
            for (const auto& d : trace.include_chain) {
                chain += chain.empty() ? d : ">" + d;
            }
            out += fmt::format(" chain={}", sanitize_for_comment(chain));
        }
    }
    if (result == Result::TempError || result == Result::PermError) {
        out += fmt::format(
            "{}problem={}", out.empty() ? "" : " ",
            sanitize_for_comment(trace.error_term.empty() ? trace.error
                                                          : trace.error_term + ": " + trace.error));
    }
    out += fmt::format("{}lookups={} void={}", out.empty() ? "" : " ", trace.dns_lookups,
                       trace.void_lookups);
    return out;
}

std::string Outcome::full_trace() const {
    std::string out;
    out += fmt::format("result:       {}\n", to_string(result));
    out += fmt::format("identity:     {} ({})\n", to_string(identity), domain);
    out += fmt::format("sender:       {}\n", sender);
    out += fmt::format("record:       {}\n", trace.record.empty() ? "(none)" : trace.record);
    if (!trace.decided_by.empty()) {
        out += fmt::format("decided by:   {} in {}\n", trace.decided_by, trace.decided_in);
    }
    if (trace.include_chain.size() > 1) {
        std::string chain;
        for (const auto& d : trace.include_chain) {
            chain += chain.empty() ? d : " -> " + d;
        }
        out += fmt::format("chain:        {}\n", chain);
    }
    out += fmt::format("dns lookups:  {} of {}\n", trace.dns_lookups, kMaxDnsTerms);
    out += fmt::format("void lookups: {} of {}\n", trace.void_lookups, kMaxVoidLookups);
    if (!trace.error.empty()) {
        out += fmt::format(
            "problem:      {}{}\n",
            trace.error_term.empty() ? "" : "'" + trace.error_term + "': ", trace.error);
    }
    if (!explanation.empty()) {
        out += fmt::format("explanation:  {}\n", explanation);
    }
    if (!trace.visited.empty()) {
        out += "records read:\n";
        for (const auto& v : trace.visited) {
            out += fmt::format("  {}{}: {}\n", v.domain, v.via.empty() ? "" : " (" + v.via + ")",
                               v.record.empty() ? "(no SPF record)" : v.record);
        }
    }
    return out;
}

}  // namespace mailwarden::auth::spf
