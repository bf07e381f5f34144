// evaluator.cpp - DMARC evaluation (RFC 9989 §4.10, §5.3); see evaluator.hpp.
//
// One evaluation memoizes its _dmarc lookups, so the policy discovery walk and the walks
// for the organizational domains of the author and the authenticated identifiers share
// answers. Each walk queries at most kMaxTreeWalkQueries names (§4.10); identifiers that
// cannot share the author's organizational domain are rejected without a walk, and at most
// kMaxAlignmentWalks identifier domains are walked per message. DNS trouble gives
// temperror, never fail (§5.3.6).
#include "auth/dmarc/evaluator.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "auth/dmarc/public_suffix_list.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::dmarc {

namespace {

/// RFC 9989 §4.10: a tree walk makes at most eight queries ...
constexpr std::size_t kMaxTreeWalkQueries = 8;
/// ... by jumping from a longer name straight to its last seven labels (step 4).
constexpr std::size_t kTreeWalkShortcutLabels = 7;
/// Distinct SPF/DKIM domains whose organizational domain is walked for one message.
constexpr std::size_t kMaxAlignmentWalks = 16;
/// RFC 1035 §2.3.4.
constexpr std::size_t kMaxDomainBytes = 253;
constexpr std::size_t kMaxLabelBytes = 63;
/// How many DKIM signatures a reason names before "...".
constexpr std::size_t kMaxReasonSignatures = 3;

std::string normalize(std::string_view domain) {
    if (!domain.empty() && domain.back() == '.') {
        domain.remove_suffix(1);
    }
    return util::to_lower(domain);
}

bool is_usable_domain(std::string_view domain) {
    if (domain.empty() || domain.size() > kMaxDomainBytes) {
        return false;
    }
    for (std::string_view label : util::split(domain, '.')) {
        if (label.empty() || label.size() > kMaxLabelBytes) {
            return false;
        }
        for (char c : label) {
            const auto u = static_cast<unsigned char>(c);
            if (u <= 0x20 || u == 0x7f || c == ';' || c == '(' || c == ')' || c == '\\' ||
                c == '"' || c == '@') {
                return false;
            }
        }
    }
    return true;
}

std::size_t label_count(std::string_view domain) {
    return static_cast<std::size_t>(std::count(domain.begin(), domain.end(), '.')) + 1;
}

/// The last `n` labels of `domain` (n >= 1, n <= label_count).
std::string last_labels(std::string_view domain, std::size_t n) {
    std::size_t pos = domain.size();
    for (std::size_t i = 0; i < n; ++i) {
        const auto dot = pos == 0 ? std::string_view::npos : domain.rfind('.', pos - 1);
        if (dot == std::string_view::npos) {
            return std::string(domain);
        }
        pos = dot;
    }
    return std::string(domain.substr(pos + 1));
}

bool is_same_or_subdomain(std::string_view domain, std::string_view parent) {
    return domain == parent || (domain.size() > parent.size() && domain.ends_with(parent) &&
                                domain[domain.size() - parent.size() - 1] == '.');
}

Policy lowered(Policy policy) {
    return policy == Policy::Reject ? Policy::Quarantine : Policy::None;
}

/// One _dmarc lookup, as the tree walk sees it (RFC 9989 §4.10 steps 1-2).
struct Lookup {
    enum class Kind { Record, NoRecord, TempError };
    Kind kind = Kind::NoRecord;
    std::optional<Record> record;
    std::string note;  ///< why there is no record or what failed, for reasons
};

enum class Tri { No, Yes, TempError };

}  // namespace

class Evaluator::Impl {
  public:
    Impl(dns::Resolver& resolver, Options options, std::optional<PublicSuffixList> psl)
        : resolver_(resolver), options_(std::move(options)), psl_(std::move(psl)) {}

    dns::Resolver& resolver_;
    Options options_;
    std::optional<PublicSuffixList> psl_;
};

namespace {

/// What one evaluation knows; every _dmarc name is queried at most once.
class Session {
  public:
    Session(dns::Resolver& resolver, const Options& options, const PublicSuffixList* psl)
        : resolver_(resolver), options_(options), psl_(psl) {}

    int queries() const { return queries_; }
    std::vector<std::string> notes;  ///< discarded records etc., for reasons

    /// _dmarc.<domain> (RFC 9989 §4.10 steps 1-2, §4.5: strings concatenated).
    const Lookup& fetch(const std::string& domain) {
        if (const auto it = cache_.find(domain); it != cache_.end()) {
            return it->second;
        }
        const std::string name = "_dmarc." + domain;
        ++queries_;
        const auto answer = resolver_.txt(name);
        Lookup lookup;
        if (dns::is_temporary(answer.rcode)) {
            lookup.kind = Lookup::Kind::TempError;
            lookup.note =
                fmt::format("the lookup of {} failed ({})", name, dns::to_string(answer.rcode));
        } else if (answer.ok()) {
            std::vector<Record> records;
            for (const auto& txt : answer.records) {
                if (auto record = parse_record(txt.text())) {
                    records.push_back(std::move(*record));
                }
            }
            if (records.size() == 1) {
                lookup.kind = Lookup::Kind::Record;
                lookup.record = std::move(records.front());
            } else if (records.size() > 1) {
                lookup.note =
                    fmt::format("{} has {} DMARC records, so none counts (RFC 9989 §4.10 step 2)",
                                name, records.size());
                notes.push_back(lookup.note);
            }
        }
        return cache_.emplace(domain, std::move(lookup)).first->second;
    }

    /// The names a tree walk for `domain` queries (RFC 9989 §4.10 steps 3-7).
    static std::vector<std::string> walk_targets(std::string_view domain) {
        std::vector<std::string> targets{std::string(domain)};
        const std::size_t x = label_count(domain);
        for (std::size_t keep = x < kTreeWalkShortcutLabels + 1 ? x - 1 : kTreeWalkShortcutLabels;
             keep >= 1 && targets.size() < kMaxTreeWalkQueries; --keep) {
            targets.push_back(last_labels(domain, keep));
        }
        return targets;
    }

    struct Org {
        bool temperror = false;
        std::string domain;      ///< the organizational domain
        std::string psd_domain;  ///< where a psd=y record stopped the walk ("" if none)
        std::string failure;     ///< for temperror: what failed
    };

    /// RFC 9989 §4.10.2 (tree walk) or RFC 7489 §3.2 (PSL).
    const Org& organizational_domain(const std::string& domain) {
        if (const auto it = orgs_.find(domain); it != orgs_.end()) {
            return it->second;
        }
        Org org;
        if (options_.method == OrgDomainMethod::PublicSuffixList) {
            org.domain =
                psl_ != nullptr ? psl_->registrable_domain(domain).value_or(domain) : domain;
            return orgs_.emplace(domain, std::move(org)).first->second;
        }
        const auto targets = walk_targets(domain);
        std::vector<std::size_t> found;  // indexes of targets with a record, longest first
        for (std::size_t i = 0; i < targets.size(); ++i) {
            const Lookup& lookup = fetch(targets[i]);
            if (lookup.kind == Lookup::Kind::TempError) {
                org.temperror = true;
                org.failure = lookup.note;
                return orgs_.emplace(domain, std::move(org)).first->second;
            }
            if (lookup.kind == Lookup::Kind::Record) {
                found.push_back(i);
                if (lookup.record->psd == 'y' || lookup.record->psd == 'n') {
                    break;  // steps 2 and 6: stop
                }
            }
        }
        org.domain = domain;  // "If this process does not determine the Organizational Domain"
        for (std::size_t i : found) {
            const Record& record = *cache_.at(targets[i]).record;
            if (record.psd == 'n') {
                org.domain = targets[i];  // rule 1
                break;
            }
            if (record.psd == 'y' && i != 0) {
                org.domain = last_labels(domain, label_count(targets[i]) + 1);  // rule 2
                org.psd_domain = targets[i];
                break;
            }
            org.domain = targets[i];  // rule 3: the record with the fewest labels (so far)
        }
        return orgs_.emplace(domain, std::move(org)).first->second;
    }

    /// Whether `domain` exists (RFC 9989 §3.2.13, Appendix A.4: NXDOMAIN, per RFC 8020,
    /// means it does not; any other definite answer means it does). A, AAAA and MX are
    /// asked in turn until one shows the name; it does not exist only when all three say
    /// NXDOMAIN. Temporary failures without a definite answer give TempError.
    Tri exists(const std::string& domain) {
        bool temporary = false;
        auto judge = [&](dns::Rcode rcode) {
            if (dns::is_temporary(rcode)) {
                temporary = true;
                return false;
            }
            return rcode != dns::Rcode::NxDomain;
        };
        if (judge(resolver_.a(domain).rcode) || judge(resolver_.aaaa(domain).rcode) ||
            judge(resolver_.mx(domain).rcode)) {
            return Tri::Yes;
        }
        return temporary ? Tri::TempError : Tri::No;
    }

  private:
    dns::Resolver& resolver_;
    const Options& options_;
    const PublicSuffixList* psl_;
    int queries_ = 0;
    std::map<std::string, Lookup> cache_;
    std::map<std::string, Org> orgs_;
};

/// Where the policy for an author domain comes from (RFC 9989 §4.10.1; RFC 7489 §6.6.3).
struct Discovery {
    Result status = Result::None;  ///< None (no record), TempError, or Pass meaning "found"
    std::string policy_domain;
    std::optional<Record> record;
    std::string failure;  ///< for TempError
};

Discovery discover(Session& session, const std::string& author, OrgDomainMethod method) {
    Discovery out;
    // True when `domain`'s lookup settles the discovery (a record, or a DNS failure).
    auto settles = [&](const std::string& domain) {
        const Lookup& lookup = session.fetch(domain);
        if (lookup.kind == Lookup::Kind::TempError) {
            out.status = Result::TempError;
            out.failure = lookup.note;
        } else if (lookup.kind == Lookup::Kind::Record) {
            out.status = Result::Pass;
            out.policy_domain = domain;
            out.record = lookup.record;
        }
        return lookup.kind != Lookup::Kind::NoRecord;
    };
    // The author domain's own record first, then the organizational domain's, then that of
    // the Public Suffix Domain above it.
    if (settles(author)) {
        return out;
    }
    const Session::Org& org = session.organizational_domain(author);
    if (org.temperror) {
        out.status = Result::TempError;
        out.failure = org.failure;
        return out;
    }
    std::vector<std::string> candidates{org.domain};
    if (method == OrgDomainMethod::TreeWalk && !org.psd_domain.empty()) {
        candidates.push_back(org.psd_domain);
    }
    for (const std::string& candidate : candidates) {
        if (candidate != author && settles(candidate)) {
            return out;
        }
    }
    return out;
}

/// The tag that applies to `author` (RFC 9989 §4.7 p/sp/np, §4.10.1). p when the record is
/// the author's own, or when the author is the organizational domain under a PSD's record;
/// sp for an existing subdomain of the organizational domain; np for a non-existent author
/// (checked only when np= would change the answer). `existence` reports a DNS failure.
struct Applied {
    Policy policy = Policy::None;
    std::string tag;
    Tri existence = Tri::Yes;
};

Applied applicable_policy(Session& session, const std::string& author,
                          const std::string& policy_domain, const std::string& org_domain,
                          const Record& record) {
    Applied out{record.p, "p", Tri::Yes};
    if (author == policy_domain) {
        return out;
    }
    if (author != org_domain && record.sp) {
        out = {*record.sp, "sp", Tri::Yes};
    }
    if (record.np && *record.np != out.policy) {
        out.existence = session.exists(author);
        if (out.existence == Tri::No) {
            out = {*record.np, "np", Tri::No};
        }
    }
    return out;
}

std::string describe_spf(const SpfInput& spf, std::string_view author, bool strict) {
    if (spf.domain.empty()) {
        return spf.result == spf::Result::None
                   ? "no SPF result"
                   : fmt::format("SPF gave {}", spf::to_string(spf.result));
    }
    if (spf.result == spf::Result::Pass) {
        return fmt::format("SPF passed for {}, which is not aligned with {}{}", spf.domain, author,
                           strict ? " (strict alignment)" : "");
    }
    return fmt::format("SPF gave {} for {}", spf::to_string(spf.result), spf.domain);
}

std::string describe_dkim(std::span<const DkimInput> dkim, std::string_view author, bool strict) {
    if (dkim.empty()) {
        return "no DKIM signature";
    }
    std::vector<std::string> details;
    for (const DkimInput& sig : dkim) {
        if (details.size() == kMaxReasonSignatures) {
            details.emplace_back("...");
            break;
        }
        const std::string d = sig.domain.empty() ? "(no d=)" : sig.domain;
        details.push_back(sig.result == dkim::Result::Pass
                              ? fmt::format("d={} verified but is not aligned", d)
                              : fmt::format("d={} {}", d, dkim::to_string(sig.result)));
    }
    std::string joined;
    for (const auto& detail : details) {
        joined += (joined.empty() ? "" : ", ") + detail;
    }
    return fmt::format("no DKIM signature {}{} verified ({})", strict ? "from exactly " : "from ",
                       author, joined);
}

}  // namespace

Outcome unusable_author(std::string reason) {
    Outcome out;
    out.result = Result::PermError;
    out.reason = std::move(reason);
    return out;
}

std::optional<Evaluator> Evaluator::create(dns::Resolver& resolver, Options options,
                                           std::string* error) {
    std::optional<PublicSuffixList> psl;
    if (options.method == OrgDomainMethod::PublicSuffixList) {
        psl = PublicSuffixList::load(options.psl_file, error);
        if (!psl) {
            return std::nullopt;
        }
    }
    return Evaluator(std::make_unique<Impl>(resolver, std::move(options), std::move(psl)));
}

Evaluator::Evaluator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Evaluator::~Evaluator() = default;
Evaluator::Evaluator(Evaluator&&) noexcept = default;
Evaluator& Evaluator::operator=(Evaluator&&) noexcept = default;

std::string Evaluator::organizational_domain(std::string_view domain) const {
    const std::string d = normalize(domain);
    if (!is_usable_domain(d)) {
        return d;
    }
    Session session(impl_->resolver_, impl_->options_, impl_->psl_ ? &*impl_->psl_ : nullptr);
    const auto& org = session.organizational_domain(d);
    return org.temperror ? d : org.domain;  // DNS trouble: the domain stands for itself
}

Outcome Evaluator::discover_policy(std::string_view author_domain) const {
    Outcome out;
    const std::string author = normalize(author_domain);
    if (!is_usable_domain(author)) {
        return unusable_author(
            fmt::format("'{}' is not a usable domain name", author.substr(0, 80)));
    }
    out.header_from = author;
    Session session(impl_->resolver_, impl_->options_, impl_->psl_ ? &*impl_->psl_ : nullptr);
    const Discovery found = discover(session, author, impl_->options_.method);
    out.dns_queries = session.queries();
    if (found.status == Result::TempError) {
        out.result = Result::TempError;
        out.reason =
            fmt::format("the DMARC policy of {} could not be looked up: {}", author, found.failure);
        return out;
    }
    const auto& org = session.organizational_domain(author);
    out.org_domain = org.temperror ? "" : org.domain;
    if (found.status == Result::None ||
        (!found.record->policy_valid && found.record->rua.empty())) {
        out.result = Result::None;
        out.reason = found.status == Result::None
                         ? fmt::format("{} publishes no DMARC policy", author)
                         : fmt::format(
                               "the DMARC record of {} has no valid p= and no rua=, so "
                               "DMARC does not apply (RFC 9989 §4.10.1)",
                               found.policy_domain);
        out.dns_queries = session.queries();
        return out;
    }
    out.policy_domain = found.policy_domain;
    out.record = found.record;
    const Applied applied = applicable_policy(session, author, found.policy_domain,
                                              org.temperror ? author : org.domain, *found.record);
    out.dns_queries = session.queries();
    if (applied.existence == Tri::TempError) {
        out.result = Result::TempError;
        out.reason = fmt::format("whether {} exists (for np=) could not be looked up", author);
        return out;
    }
    out.result = Result::Fail;
    out.policy = applied.policy;
    out.policy_tag = applied.tag;
    out.disposition = found.record->testing ? lowered(applied.policy) : applied.policy;
    out.reason =
        fmt::format("{} publishes {}={}{}; a message failing DMARC gets {}", found.policy_domain,
                    applied.tag, to_string(applied.policy),
                    found.record->testing ? " with t=y (testing)" : "", to_string(out.disposition));
    return out;
}

Outcome Evaluator::evaluate(std::string_view author_domain, const SpfInput& spf,
                            std::span<const DkimInput> dkim) const {
    Outcome out;
    const std::string author = normalize(author_domain);
    if (!is_usable_domain(author)) {
        return unusable_author(fmt::format("the author domain '{}' is not a usable domain name",
                                           author.substr(0, 80)));
    }
    out.header_from = author;
    Session session(impl_->resolver_, impl_->options_, impl_->psl_ ? &*impl_->psl_ : nullptr);
    const Discovery found = discover(session, author, impl_->options_.method);
    auto finish = [&]() -> Outcome {
        out.dns_queries = session.queries();
        for (const auto& note : session.notes) {
            out.reason += "; " + note;
        }
        return std::move(out);
    };
    if (found.status == Result::TempError) {
        out.result = Result::TempError;
        out.reason =
            fmt::format("the DMARC policy of {} could not be looked up: {}", author, found.failure);
        return finish();
    }
    if (found.status == Result::None) {
        const auto& org = session.organizational_domain(author);
        out.org_domain = org.temperror ? "" : org.domain;
        out.result = Result::None;
        out.reason = fmt::format("{} publishes no DMARC policy{}", author,
                                 out.org_domain.empty() || out.org_domain == author
                                     ? std::string()
                                     : " and neither does " + out.org_domain);
        return finish();
    }
    const Record& record = *found.record;
    out.policy_domain = found.policy_domain;
    out.record = record;
    if (!record.policy_valid && record.rua.empty()) {
        out.result = Result::None;
        out.reason = fmt::format(
            "the DMARC record of {} has no valid p= (or an invalid sp=/np=) and no rua=, so "
            "DMARC does not apply to the message (RFC 9989 §4.10.1)",
            found.policy_domain);
        return finish();
    }

    // Identifier alignment (RFC 9989 §4.4, §4.10.2).
    std::string alignment_failure;
    std::size_t walks = 0;
    auto aligned = [&](const std::string& raw, bool strict) -> Tri {
        const std::string id = normalize(raw);
        if (id == author) {
            return Tri::Yes;  // identical: strict and relaxed alike
        }
        if (strict || !is_usable_domain(id)) {
            return Tri::No;
        }
        const auto& author_org = session.organizational_domain(author);
        if (author_org.temperror) {
            alignment_failure = author_org.failure;
            return Tri::TempError;
        }
        // The organizational domain of a name is that name or one of its ancestors.
        if (!is_same_or_subdomain(id, author_org.domain)) {
            return Tri::No;
        }
        if (id != author_org.domain && ++walks > kMaxAlignmentWalks) {
            return Tri::No;
        }
        const auto& id_org = session.organizational_domain(id);
        if (id_org.temperror) {
            alignment_failure = id_org.failure;
            return Tri::TempError;
        }
        return id_org.domain == author_org.domain ? Tri::Yes : Tri::No;
    };

    bool temperror = false;
    std::string pass_reason;
    if (spf.result == spf::Result::Pass && !spf.domain.empty()) {
        switch (aligned(spf.domain, record.aspf_strict)) {
            case Tri::Yes:
                out.spf_aligned = true;
                pass_reason = fmt::format("SPF passed for {}, aligned with {}", spf.domain, author);
                break;
            case Tri::TempError:
                temperror = true;
                break;
            case Tri::No:
                break;
        }
    }
    for (const DkimInput& sig : dkim) {
        if (sig.result != dkim::Result::Pass || sig.domain.empty()) {
            continue;
        }
        const Tri t = aligned(sig.domain, record.adkim_strict);
        if (t == Tri::Yes) {
            out.dkim_aligned = true;
            out.aligned_dkim_domain = normalize(sig.domain);
            const std::string dkim_reason = fmt::format(
                "DKIM signature d={}{} verified and is aligned with {}", out.aligned_dkim_domain,
                sig.selector.empty() ? "" : " s=" + sig.selector, author);
            pass_reason = pass_reason.empty() ? dkim_reason : pass_reason + "; " + dkim_reason;
            break;
        }
        temperror = temperror || t == Tri::TempError;
    }
    const auto& author_org = session.organizational_domain(author);
    if (!author_org.temperror) {
        out.org_domain = author_org.domain;
    }
    const bool pass = out.spf_aligned || out.dkim_aligned;
    if (!pass && temperror) {
        out.result = Result::TempError;
        out.reason =
            fmt::format("alignment with {} could not be checked: {}", author, alignment_failure);
        return finish();
    }
    if (!pass) {
        // RFC 9989 §5.3.6: an identifier that would align but could not be authenticated
        // because of a DNS failure leaves the message neither passing nor failing.
        std::string pending;
        if (spf.result == spf::Result::TempError && !spf.domain.empty() &&
            aligned(spf.domain, record.aspf_strict) == Tri::Yes) {
            pending = fmt::format("SPF for {}", spf.domain);
        }
        for (const DkimInput& sig : dkim) {
            if (pending.empty() && sig.result == dkim::Result::TempError && !sig.domain.empty() &&
                aligned(sig.domain, record.adkim_strict) == Tri::Yes) {
                pending = fmt::format("the DKIM signature of d={}", normalize(sig.domain));
            }
        }
        if (!pending.empty()) {
            out.result = Result::TempError;
            out.reason = fmt::format(
                "{} could not be checked (temporary DNS failure), so DMARC for {} can be neither "
                "pass nor fail",
                pending, author);
            return finish();
        }
    }

    const Applied applied =
        applicable_policy(session, author, found.policy_domain,
                          author_org.temperror ? found.policy_domain : author_org.domain, record);
    out.policy = applied.policy;
    out.policy_tag = applied.tag;
    std::string published = fmt::format("{} publishes {}={}", found.policy_domain, applied.tag,
                                        to_string(applied.policy));
    if (found.policy_domain != author) {
        published += fmt::format(
            " for {}{}", applied.tag == "np" ? "non-existent " : "",
            applied.tag == "np" || applied.tag == "sp" ? "subdomains such as " + author : author);
    }
    if (pass) {
        out.result = Result::Pass;
        out.reason = fmt::format("{}; {}", published, pass_reason);
        return finish();
    }
    if (applied.existence == Tri::TempError) {
        out.result = Result::TempError;
        out.reason = fmt::format(
            "{} fails DMARC, but whether it exists (np=) could not be looked up", author);
        return finish();
    }
    out.result = Result::Fail;
    out.disposition = record.testing ? lowered(applied.policy) : applied.policy;
    if (record.testing && applied.policy != Policy::None) {
        published += fmt::format(" with t=y (testing), so the disposition is {}",
                                 to_string(out.disposition));
    }
    out.reason = fmt::format("{}; {}; {}", published, describe_spf(spf, author, record.aspf_strict),
                             describe_dkim(dkim, author, record.adkim_strict));
    return finish();
}

Outcome Evaluator::evaluate_authors(std::span<const std::string> author_domains,
                                    const SpfInput& spf, std::span<const DkimInput> dkim) const {
    if (author_domains.empty()) {
        return unusable_author("From: names no author domain");
    }
    if (author_domains.size() == 1) {
        return evaluate(author_domains.front(), spf, dkim);
    }
    auto severity = [](const Outcome& o) {
        switch (o.result) {
            case Result::Fail:
                return 100 + 10 * static_cast<int>(o.disposition) + static_cast<int>(o.policy);
            case Result::TempError:
                return 50;
            case Result::PermError:
                return 40;
            case Result::Pass:
                return 20;
            case Result::None:
                return 10;
        }
        return 0;
    };
    std::optional<Outcome> worst;
    int queries = 0;
    for (const std::string& domain : author_domains) {
        Outcome outcome = evaluate(domain, spf, dkim);
        queries += outcome.dns_queries;
        if (!worst || severity(outcome) > severity(*worst)) {
            worst = std::move(outcome);
        }
    }
    worst->dns_queries = queries;
    worst->reason = fmt::format("From: has {} author domains; the strictest result is for {}: {}",
                                author_domains.size(), worst->header_from, worst->reason);
    return std::move(*worst);
}

}  // namespace mailwarden::auth::dmarc
