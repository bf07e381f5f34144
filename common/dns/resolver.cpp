// resolver.cpp - helpers shared by every Resolver: rcode names, TXT joining, reverse names.
#include "dns/resolver.hpp"

#include "util/ascii.hpp"

namespace mailwarden::dns {

std::string_view to_string(Rcode rcode) {
    switch (rcode) {
        case Rcode::NoError:
            return "noerror";
        case Rcode::NoData:
            return "nodata";
        case Rcode::NxDomain:
            return "nxdomain";
        case Rcode::ServFail:
            return "servfail";
        case Rcode::Refused:
            return "refused";
        case Rcode::Timeout:
            return "timeout";
    }
    return "unknown";
}

std::string TxtRecord::text() const {
    std::size_t size = 0;
    for (const auto& s : strings) {
        size += s.size();
    }
    std::string out;
    out.reserve(size);
    for (const auto& s : strings) {
        out += s;
    }
    return out;
}

std::string reverse_name(const util::IpAddress& address) {
    constexpr char kHex[] = "0123456789abcdef";
    const auto& bytes = address.bytes();
    std::string out;
    if (address.is_v4()) {
        for (int i = 3; i >= 0; --i) {
            out += std::to_string(bytes[static_cast<std::size_t>(i)]);
            out += '.';
        }
        out += "in-addr.arpa";
        return out;
    }
    out.reserve(72);
    for (int i = 15; i >= 0; --i) {
        const auto byte = bytes[static_cast<std::size_t>(i)];
        out += kHex[byte & 0x0f];
        out += '.';
        out += kHex[byte >> 4];
        out += '.';
    }
    out += "ip6.arpa";
    return out;
}

std::string normalize_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    return util::to_lower(name);
}

}  // namespace mailwarden::dns
