// spf_record_fuzz.cpp - fuzzes SPF record parsing and evaluation of the parsed record.
//
// The input is published as the TXT record of fuzz.example in a StaticResolver that also
// holds a few addresses and an include target, then evaluated for an IPv4 and an IPv6
// client. Properties checked: no crash or sanitizer report, parse/select agree, the lookup
// counters never pass their RFC 7208 limits by more than the one term that trips them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "auth/spf/evaluator.hpp"
#include "auth/spf/record.hpp"
#include "dns/static_resolver.hpp"
#include "util/clock.hpp"

namespace spf = mailwarden::auth::spf;
namespace dns = mailwarden::dns;
namespace util = mailwarden::util;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    if (spf::is_spf_record(text)) {
        const auto record = spf::parse_record(text);
        if (record && record->text != text) {
            std::abort();
        }
    } else if (spf::parse_record(text).has_value()) {
        std::abort();  // a non-SPF text must never parse
    }
    (void)spf::is_valid_domain_spec(text);

    dns::StaticResolver zone;
    zone.add_txt("fuzz.example", text);
    zone.add_txt("inc.example", text);
    zone.add_a("fuzz.example", util::IpAddress::v4(192, 0, 2, 1));
    zone.add_aaaa("fuzz.example", *util::IpAddress::parse("2001:db8::1"));
    zone.add_mx("fuzz.example", 10, "fuzz.example");
    zone.add_ptr("1.2.0.192.in-addr.arpa", "fuzz.example");
    util::SystemClock clock;
    spf::Evaluator evaluator(zone, clock);
    for (const char* ip : {"192.0.2.1", "2001:db8::1"}) {
        const auto outcome =
            evaluator.check_mail_from(*util::IpAddress::parse(ip), "u@fuzz.example", "h.example");
        if (outcome.trace.dns_lookups > spf::kMaxDnsTerms + 1 ||
            outcome.trace.void_lookups > spf::kMaxVoidLookups + 1) {
            std::abort();
        }
        (void)outcome.short_trace();
        (void)outcome.full_trace();
    }
    return 0;
}
