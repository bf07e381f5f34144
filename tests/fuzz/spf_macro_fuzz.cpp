// spf_macro_fuzz.cpp - fuzzes SPF macro expansion (RFC 7208 §7).
//
// Input: first byte picks the mode (domain-spec or explanation), the rest up to the first
// NUL is the macro string, what follows is the sender's local part. Properties checked: no
// crash, validate and expand agree, output within kMaxExpansionOctets, truncate_domain()
// within 253 octets.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/spf/macro.hpp"

namespace spf = mailwarden::auth::spf;
namespace util = mailwarden::util;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const auto mode = (data[0] & 1) != 0 ? spf::MacroMode::Explanation : spf::MacroMode::DomainSpec;
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto nul = rest.find('\0');
    const std::string_view text = rest.substr(0, nul);
    const std::string_view local = nul == std::string_view::npos ? "user" : rest.substr(nul + 1);
    const std::string sender = std::string(local) + "@example.com";

    spf::MacroContext context;
    context.ip = (data[0] & 2) != 0 ? *util::IpAddress::parse("2001:db8::cb01")
                                    : util::IpAddress::v4(192, 0, 2, 3);
    context.sender = sender;
    context.local_part = local;
    context.sender_domain = "example.com";
    context.domain = "sub.example.com";
    context.helo = "mx.example.org";
    context.validated_domain = [] { return std::string("mx.example.com"); };

    const bool valid = spf::validate_macro_string(text, mode).has_value();
    const auto expanded = spf::expand(text, context, mode);
    if (expanded) {
        if (!valid || expanded->size() > spf::kMaxExpansionOctets) {
            std::abort();
        }
        if (spf::truncate_domain(*expanded).size() > spf::kMaxDomainOctets) {
            std::abort();
        }
    }
    return 0;
}
