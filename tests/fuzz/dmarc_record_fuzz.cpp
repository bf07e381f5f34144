// dmarc_record_fuzz.cpp - fuzzes DMARC record parsing and evaluation of the parsed record.
//
// The input is parsed, then published as the TXT record at _dmarc.fuzz.example (and at the
// parent of the author) in a StaticResolver and evaluated for an author below it with SPF
// and DKIM outcomes that align relaxed but not strict. Properties checked: no crash or
// sanitizer report; a parsed record keeps its text, has a psd of y/n/u, and p=none with no
// sp/np when its policy is invalid; a non-DMARC text never parses; the evaluation makes at
// most three tree walks' worth of _dmarc queries and a pass is never reported without an
// aligned identifier.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "auth/dmarc/evaluator.hpp"
#include "dns/static_resolver.hpp"

namespace dmarc = mailwarden::auth::dmarc;
namespace dns = mailwarden::dns;
namespace spf = mailwarden::auth::spf;
namespace dkim = mailwarden::auth::dkim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto record = dmarc::parse_record(text, &error);
    if (record) {
        if (record->text != text ||
            (record->psd != 'y' && record->psd != 'n' && record->psd != 'u')) {
            std::abort();
        }
        if (!record->policy_valid &&
            (record->p != dmarc::Policy::None || record->sp || record->np)) {
            std::abort();
        }
        if (text.find("DMARC1") == std::string::npos) {
            std::abort();
        }
    } else if (error.empty()) {
        std::abort();
    }

    dns::StaticResolver zone;
    zone.add_txt("_dmarc.fuzz.example", text);
    zone.add_txt("_dmarc.example", text);
    zone.add_a("www.a.fuzz.example", *mailwarden::util::IpAddress::parse("192.0.2.1"));
    auto evaluator = dmarc::Evaluator::create(zone, dmarc::Options{});
    if (!evaluator) {
        std::abort();
    }
    const dmarc::SpfInput spf_in{spf::Result::Pass, "bounce.fuzz.example"};
    const std::vector<dmarc::DkimInput> dkim_in{{dkim::Result::Pass, "sig.fuzz.example", "s1"},
                                                {dkim::Result::Fail, "www.a.fuzz.example", "s2"}};
    for (const char* author : {"fuzz.example", "www.a.fuzz.example", "ghost.a.fuzz.example"}) {
        const auto outcome = evaluator->evaluate(author, spf_in, dkim_in);
        if (outcome.dns_queries > 3 * 8) {
            std::abort();
        }
        if (outcome.result == dmarc::Result::Pass && !outcome.spf_aligned &&
            !outcome.dkim_aligned) {
            std::abort();
        }
        if (outcome.result != dmarc::Result::Fail && outcome.disposition != dmarc::Policy::None) {
            std::abort();
        }
    }
    (void)evaluator->discover_policy("www.a.fuzz.example");
    return 0;
}
