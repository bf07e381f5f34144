#include "smtp/address.hpp"

#include <fmt/format.h>

#include "util/ascii.hpp"

namespace mailwarden::smtp {

std::string Address::to_string() const {
    if (domain.empty()) {
        return local_part;
    }
    return local_part + "@" + domain;
}

util::Result<Address> parse_envelope_address(std::string_view text) {
    if (text.size() > kMaxAddressLength) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("address of {} octets is too long", text.size()));
    }
    if (text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        return util::fail(util::ErrorCode::InvalidInput, "address contains CR, LF or NUL");
    }
    text = util::trim(text);
    if (!text.empty() && text.front() == '<') {
        const auto close = text.rfind('>');
        text = text.substr(1, close == std::string_view::npos ? std::string_view::npos
                                                               : close - 1);
    }
    if (!text.empty() && text.front() == '@') {  // RFC 5321 §4.1.2 source route
        const auto colon = text.find(':');
        text = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    }
    Address address;
    const auto at = text.rfind('@');
    if (at == std::string_view::npos) {
        address.local_part = std::string(text);
    } else {
        address.local_part = std::string(text.substr(0, at));
        address.domain = util::to_lower(text.substr(at + 1));
        while (!address.domain.empty() && address.domain.back() == '.') {
            address.domain.pop_back();
        }
    }
    return address;
}

}  // namespace mailwarden::smtp
