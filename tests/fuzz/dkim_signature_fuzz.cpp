// dkim_signature_fuzz.cpp - fuzzes whole-message verification.
//
// The input is a message (header, blank line, body) verified against a StaticResolver that
// publishes an RSA and an Ed25519 key, a revoked key and a failing name. Properties: no
// crash or sanitizer report; one result per DKIM-Signature field, each with a reason; at
// most max_signatures key lookups.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "auth/dkim/verifier.hpp"
#include "dns/static_resolver.hpp"

namespace dkim = mailwarden::auth::dkim;
namespace dns = mailwarden::dns;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string message(reinterpret_cast<const char*>(data), size);
    dns::StaticResolver zone;
    zone.add_txt(
        "rsa._domainkey.example.com",
        "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3"
        "idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR"
        "+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB");
    zone.add_txt("ed._domainkey.example.com",
                 "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    zone.add_txt("revoked._domainkey.example.com", "v=DKIM1; p=");
    zone.add_failure("slow._domainkey.example.com", dns::Rcode::Timeout);
    dkim::Options options;
    options.max_signatures = 4;
    const auto results = dkim::verify_message(
        zone, message, options, std::chrono::system_clock::time_point{std::chrono::seconds(1)});
    for (const auto& r : results) {
        if (r.reason.empty() || r.result == dkim::Result::None) {
            std::abort();
        }
    }
    if (zone.query_count() > options.max_signatures) {
        std::abort();
    }
    return 0;
}
