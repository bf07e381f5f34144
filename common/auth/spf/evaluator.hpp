// evaluator.hpp - check_host() of RFC 7208 and the trace an admin reads to see why.
//
// Covers RFC 7208 §2-§8: record lookup and selection, every mechanism and qualifier,
// redirect= and exp=, macros, the processing limits of §4.6.4, the HELO and MAIL FROM
// identities, IPv4, IPv6 and IPv4-mapped clients. DNS failures give temperror, never fail
// (§2.6.6); syntax errors anywhere in a record give permerror (§4.6). Thread-safe: one
// Evaluator serves every connection; each call is bounded by the lookup budget and time
// limit. Never throws.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "auth/spf/lookup_budget.hpp"
#include "auth/spf/record_cache.hpp"
#include "auth/spf/result.hpp"
#include "dns/resolver.hpp"
#include "util/clock.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::auth::spf {

/// Which identity was checked (RFC 7208 §2.3, §2.4).
enum class Identity {
    MailFrom,  ///< the RFC 5321 MAIL FROM domain
    Helo,      ///< the HELO/EHLO name (also used for MAIL FROM:<>)
};

/// "mailfrom" or "helo", as Received-SPF's identity= key writes it.
std::string_view to_string(Identity identity) noexcept;

/// One record the evaluation read, in order.
struct VisitedRecord {
    std::string domain;
    std::string record;  ///< empty when the domain had none
    std::string via;     ///< "" for the first, else "include:..." or "redirect=..."
};

/// Why the result came out as it did, for logs, events, headers and mailwardenctl.
struct Trace {
    std::string record;                      ///< the record of the checked domain ("" if none)
    std::string decided_by;                  ///< the term that decided: "ip4:192.0.2.0/24",
                                             ///< "-all", "(default)" (no term matched), "" (none)
    std::string decided_in;                  ///< the domain whose record holds that term
    std::vector<std::string> include_chain;  ///< domains from the checked one to
                                             ///< decided_in, through include/redirect
    std::vector<VisitedRecord> visited;      ///< every record looked at
    int dns_lookups = 0;                     ///< DNS-querying terms (limit kMaxDnsTerms)
    int void_lookups = 0;                    ///< void lookups (limit kMaxVoidLookups)
    std::string error_term;  ///< for temperror/permerror: the term (or record) at fault
    std::string error;       ///< for temperror/permerror: what went wrong
};

/// The outcome of one check.
struct Outcome {
    Result result = Result::None;
    Identity identity = Identity::MailFrom;
    std::string domain;       ///< the domain checked (MAIL FROM domain or HELO name)
    std::string sender;       ///< <sender> as evaluated: "local@domain"
    std::string explanation;  ///< for fail only: exp= text or the default explanation
    Trace trace;

    /// A one-line summary for header comments and log lines: printable ASCII without
    /// parentheses or backslashes, e.g. "mechanism=ip4:192.0.2.0/24 in=_spf.example.com
    /// chain=example.com>_spf.example.com lookups=2 void=0".
    std::string short_trace() const;
    /// A multi-line, human-readable account for mailwardenctl.
    std::string full_trace() const;
};

/// Evaluation settings; the defaults follow RFC 7208.
struct Options {
    /// Explanation for fail when the record has no usable exp= (RFC 7208 §6.2). Macros are
    /// expanded as in exp text.
    std::string default_explanation =
        "%{d} does not authorise %{c} to send its mail; see RFC 7208 section 2.6.4";
    /// %{r}: the receiving host's name (RFC 7208 §7.3).
    std::string receiver = "unknown";
    /// Bound on one whole evaluation, DNS waits included.
    std::chrono::milliseconds time_limit = kDefaultTimeLimit;
};

/// check_host() over a Resolver. Holds references: resolver, clock and cache must outlive
/// it. The cache is optional; when given, parsed records are reused until their TTL ends.
class Evaluator {
  public:
    Evaluator(dns::Resolver& resolver, const util::Clock& clock, Options options = {},
              RecordCache* cache = nullptr);

    /// RFC 7208 §4: check_host(<ip>, <domain>, <sender>). `sender` is "local@domain";
    /// `helo` feeds %{h}. An IPv4-mapped `ip` is evaluated as IPv4.
    Outcome check_host(const util::IpAddress& ip, std::string_view domain, std::string_view sender,
                       std::string_view helo) const;

    /// The MAIL FROM identity (RFC 7208 §2.4): `mail_from` as sent ("<a@b>", "a@b", "" or
    /// "<>"). A null sender checks the HELO identity with sender postmaster@<helo>; an
    /// empty local part becomes "postmaster" (§4.3).
    Outcome check_mail_from(const util::IpAddress& ip, std::string_view mail_from,
                            std::string_view helo) const;

    /// The HELO identity (RFC 7208 §2.3): check_host(ip, helo, "postmaster@" + helo).
    /// none when the HELO name is an address literal or not a multi-label domain.
    Outcome check_helo(const util::IpAddress& ip, std::string_view helo) const;

  private:
    friend class Evaluation;
    dns::Resolver* resolver_;
    const util::Clock* clock_;
    Options options_;
    RecordCache* cache_;
};

/// True when `domain` may be checked (RFC 7208 §4.3): not an address literal, labels of
/// 1-63 octets, at least two labels, at most 253 octets (one trailing dot allowed).
bool is_checkable_domain(std::string_view domain) noexcept;

}  // namespace mailwarden::auth::spf
