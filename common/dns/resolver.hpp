// resolver.hpp - the DNS interface every authentication check queries through.
//
// Synchronous: libmilter runs one thread per connection and each call is bounded by the
// implementation's per-query timeout. Outcomes are values: an Answer carries the records
// and an Rcode that keeps "no such name", "no data", "server failure", "refused" and
// "timeout" apart (Postfix dns/dns.h), so callers can map them to temperror vs none.
// Implementations are thread-safe and never throw.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/ip_address.hpp"

namespace mailwarden::dns {

/// How a query ended. Never collapse these: SPF, DKIM and DMARC treat them differently.
enum class Rcode {
    NoError,   ///< the name has records of the type asked for (records is not empty)
    NoData,    ///< the name exists but has no records of that type (NOERROR, empty)
    NxDomain,  ///< the name does not exist (RCODE 3)
    ServFail,  ///< the server failed (RCODE 2, a CNAME loop, a DNSSEC bogus answer)
    Refused,   ///< the server refused the query (RCODE 5, or another error rcode)
    Timeout,   ///< no answer within the per-query timeout
};

/// "noerror", "nodata", "nxdomain", "servfail", "refused", "timeout".
std::string_view to_string(Rcode rcode);

/// True for NoData and NxDomain: an answer that says "nothing here" (RFC 7208 §4.6.4 void).
constexpr bool is_void(Rcode rcode) noexcept {
    return rcode == Rcode::NoData || rcode == Rcode::NxDomain;
}

/// True for ServFail, Refused and Timeout: the question may succeed later.
constexpr bool is_temporary(Rcode rcode) noexcept {
    return rcode == Rcode::ServFail || rcode == Rcode::Refused || rcode == Rcode::Timeout;
}

/// One TXT record: its character-strings, in order, as received (RFC 1035 §3.3.14).
struct TxtRecord {
    std::vector<std::string> strings;

    /// The strings concatenated with no separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    std::string text() const;
    friend bool operator==(const TxtRecord&, const TxtRecord&) = default;
};

/// One MX record (RFC 5321 §5.1); `exchange` has no trailing dot.
struct MxRecord {
    std::uint16_t preference = 0;
    std::string exchange;
    friend bool operator==(const MxRecord&, const MxRecord&) = default;
};

/// The outcome of one query. `records` is non-empty exactly when rcode is NoError.
template <class T>
struct Answer {
    std::vector<T> records;
    std::chrono::seconds ttl{0};  ///< smallest TTL of the answer (or of the SOA for NXDOMAIN)
    bool dnssec = false;          ///< true when the answer validated as secure
    Rcode rcode = Rcode::NoData;

    bool ok() const noexcept { return rcode == Rcode::NoError; }
};

/// DNS lookups by record type. Names are absolute, with or without a trailing dot, in any
/// letter case. Thread-safe; each call returns within the implementation's timeout.
class Resolver {
  public:
    virtual ~Resolver() = default;

    /// TXT records of `name`.
    virtual Answer<TxtRecord> txt(std::string_view name) = 0;
    /// IPv4 addresses of `name` (A records), following CNAMEs.
    virtual Answer<util::IpAddress> a(std::string_view name) = 0;
    /// IPv6 addresses of `name` (AAAA records), following CNAMEs.
    virtual Answer<util::IpAddress> aaaa(std::string_view name) = 0;
    /// MX records of `name`, in the order received.
    virtual Answer<MxRecord> mx(std::string_view name) = 0;
    /// PTR names of `address` (queried at its in-addr.arpa / ip6.arpa name), no trailing dot.
    virtual Answer<std::string> ptr(const util::IpAddress& address) = 0;
};

/// The reverse-lookup name of `address` (RFC 1035 §3.5, RFC 3596 §2.5), lower-case, no
/// trailing dot: "1.2.0.192.in-addr.arpa", "1.0.0...8.b.d.0.1.0.0.2.ip6.arpa".
std::string reverse_name(const util::IpAddress& address);

/// `name` lower-cased, without one trailing dot: the form zones and caches key on.
std::string normalize_name(std::string_view name);

}  // namespace mailwarden::dns
