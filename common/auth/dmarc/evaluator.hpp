// evaluator.hpp - DMARC (RFC 9989, which replaced RFC 7489): policy discovery by the DNS
// tree walk (or, when configured, the RFC 7489 Public Suffix List method), identifier
// alignment of the SPF and DKIM outcomes passed in, and the policy that applies.
//
// DMARC here is a function of the SPF and DKIM results handed to evaluate(), never of
// header fields other milters wrote. Thread-safe: one Evaluator serves every connection.
// Never throws; DNS failures give temperror, never a false fail.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/dkim/result.hpp"
#include "auth/spf/result.hpp"
#include "dns/resolver.hpp"

namespace mailwarden::auth::dmarc {

/// The RFC 8601 DMARC results.
enum class Result {
    None,       ///< no DMARC policy record for the author domain or its organization
    Pass,       ///< an aligned SPF or DKIM pass
    Fail,       ///< no aligned pass
    TempError,  ///< the policy could not be looked up now
    PermError,  ///< the From header has no single usable author domain, or similar
};

/// "none", "pass", "fail", "temperror", "permerror".
std::string_view to_string(Result result) noexcept;

/// A requested message handling (p=, sp=, np=).
enum class Policy { None, Quarantine, Reject };

/// "none", "quarantine", "reject".
std::string_view to_string(Policy policy) noexcept;

/// How the organizational domain is found.
enum class OrgDomainMethod {
    TreeWalk,          ///< RFC 9989 §4.10 DNS tree walk (at most 8 queries, psd=)
    PublicSuffixList,  ///< RFC 7489 §3.2 with a Public Suffix List file (libpsl)
};

/// Evaluation settings.
struct Options {
    OrgDomainMethod method = OrgDomainMethod::TreeWalk;
    /// PSL file for OrgDomainMethod::PublicSuffixList; Debian: /usr/share/publicsuffix/
    /// public_suffix_list.dat. Empty means libpsl's built-in/default list.
    std::filesystem::path psl_file;
};

/// The SPF outcome DMARC looks at: the result for the MAIL FROM identity (or HELO when
/// the envelope sender is null) and the domain it was checked for.
struct SpfInput {
    spf::Result result = spf::Result::None;
    std::string domain;
};

/// One DKIM signature's outcome as DMARC needs it.
struct DkimInput {
    dkim::Result result = dkim::Result::None;
    std::string domain;  ///< d=
    std::string selector;
};

/// A parsed DMARC policy record (RFC 9989 §4.7); unknown tags are ignored.
struct Record {
    Policy p = Policy::None;
    std::optional<Policy> sp;  ///< for subdomains of the organizational domain
    std::optional<Policy> np;  ///< for non-existent subdomains
    bool adkim_strict = false;
    bool aspf_strict = false;
    bool testing = false;  ///< t=y (or an RFC 7489 pct below 100, read as RFC 9989 says)
    char psd = 'u';        ///< 'y', 'n' or 'u'
    std::vector<std::string> rua;
    std::vector<std::string> ruf;
    std::string text;  ///< the record as published
    /// The RFC 7489 pct= as published (0-100), if any; it has already set `testing`
    /// unless the record also has t= (RFC 9989 Appendix A.6).
    std::optional<int> pct;
    /// False when p= is missing or invalid, or sp=/np= is invalid; p is then None and sp/np
    /// unset. RFC 9989 §4.10.1: such a record counts as p=none only if it has a valid rua=,
    /// otherwise DMARC does not apply to the message.
    bool policy_valid = true;
};

/// Parses a record's text; the error names what is wrong ("no p= tag", "v=DMARC1 must come
/// first", ...).
std::optional<Record> parse_record(std::string_view text, std::string* error = nullptr);

/// The outcome of one evaluation, with what an admin needs to see why.
struct Outcome {
    Result result = Result::None;
    std::string header_from;       ///< the author domain (lower case) or "" when unusable
    std::string policy_domain;     ///< where the record was found ("" if none)
    std::string org_domain;        ///< the organizational domain of header_from
    std::optional<Record> record;  ///< the policy record that applies
    Policy policy = Policy::None;  ///< the p=/sp=/np= that applies to header_from
    /// The disposition the domain asks for on failure, after t=y (testing lowers it one
    /// step, RFC 9989); Policy::None on pass/none/temperror.
    Policy disposition = Policy::None;
    bool spf_aligned = false;         ///< an SPF pass whose domain is aligned
    bool dkim_aligned = false;        ///< a DKIM pass whose d= is aligned
    std::string aligned_dkim_domain;  ///< the d= that aligned, if any
    /// The tag `policy` came from: "p", "sp" or "np" ("" when no policy applies).
    std::string policy_tag;
    int dns_queries = 0;  ///< _dmarc TXT lookups made (each tree walk: at most 8)
    std::string reason;   ///< plain words: "no aligned SPF or DKIM pass: ..."
};

/// The outcome for a message whose From: yields no single usable author domain (none, several
/// From: fields, a group, unparseable): permerror with `reason` (RFC 9989 §5.3.1 - DMARC
/// validation is not possible).
Outcome unusable_author(std::string reason);

/// DMARC over a Resolver. The resolver must outlive the Evaluator.
class Evaluator {
  public:
    /// Fails (with a message) only when the PSL method is chosen and the file cannot load.
    static std::optional<Evaluator> create(dns::Resolver& resolver, Options options,
                                           std::string* error = nullptr);
    ~Evaluator();
    Evaluator(Evaluator&&) noexcept;
    Evaluator& operator=(Evaluator&&) noexcept;

    /// Evaluates DMARC for `author_domain` (from message::author_domain) with the given
    /// SPF and DKIM outcomes.
    Outcome evaluate(std::string_view author_domain, const SpfInput& spf,
                     std::span<const DkimInput> dkim) const;

    /// The organizational domain of `domain` by the configured method (tree walk queries
    /// DNS). Used by alignment and by the outbound preflight.
    std::string organizational_domain(std::string_view domain) const;

    /// The policy record that governs `author_domain` (exact domain or organizational
    /// domain), for the outbound preflight; Result::None/TempError/PermError otherwise.
    /// When a record governs the domain, the result is Fail and policy/disposition are what
    /// a message failing DMARC gets (np= checked as for a real failure).
    Outcome discover_policy(std::string_view author_domain) const;

    /// DMARC for a From: with several author domains (message::author_domains), which RFC
    /// 9989 §5.3.1 lets a receiver evaluate anyway: each domain is evaluated and the
    /// strictest outcome is returned (fail by disposition, then temperror, permerror, pass,
    /// none), its reason prefixed with the number of authors. One domain: evaluate().
    Outcome evaluate_authors(std::span<const std::string> author_domains, const SpfInput& spf,
                             std::span<const DkimInput> dkim) const;

  private:
    class Impl;
    explicit Evaluator(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace mailwarden::auth::dmarc
