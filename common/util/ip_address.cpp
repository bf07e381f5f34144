#include "util/ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "util/ascii.hpp"

namespace mailwarden::util {

namespace {

constexpr std::size_t kMaxAddressText = INET6_ADDRSTRLEN + 8;

std::string_view strip_brackets(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
        if (istarts_with(text, "IPv6:")) {
            text.remove_prefix(5);
        }
    }
    return text;
}

}  // namespace

Result<IpAddress> IpAddress::parse(std::string_view text) {
    text = strip_brackets(trim(text));
    if (text.empty() || text.size() > kMaxAddressText) {
        return fail(ErrorCode::InvalidInput, fmt::format("not an IP address: '{}'", text));
    }
    const std::string copy(text);  // inet_pton needs a NUL-terminated string
    IpAddress address;
    if (copy.find(':') == std::string::npos) {
        if (inet_pton(AF_INET, copy.c_str(), address.bytes_.data()) == 1) {
            address.family_ = Family::V4;
            return address;
        }
    } else if (inet_pton(AF_INET6, copy.c_str(), address.bytes_.data()) == 1) {
        address.family_ = Family::V6;
        return address;
    }
    return fail(ErrorCode::InvalidInput, fmt::format("not an IP address: '{}'", text));
}

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    IpAddress address;
    address.bytes_[0] = a;
    address.bytes_[1] = b;
    address.bytes_[2] = c;
    address.bytes_[3] = d;
    return address;
}

IpAddress IpAddress::from_bytes(Family family, const std::uint8_t* bytes) {
    IpAddress address;
    address.family_ = family;
    std::memcpy(address.bytes_.data(), bytes, family == Family::V4 ? 4 : 16);
    return address;
}

bool IpAddress::is_v4_mapped() const noexcept {
    if (is_v4()) {
        return false;
    }
    for (int i = 0; i < 10; ++i) {
        if (bytes_[i] != 0) {
            return false;
        }
    }
    return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

IpAddress IpAddress::unmapped() const noexcept {
    if (!is_v4_mapped()) {
        return *this;
    }
    return v4(bytes_[12], bytes_[13], bytes_[14], bytes_[15]);
}

std::string IpAddress::to_string() const {
    char buffer[INET6_ADDRSTRLEN] = {};
    inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buffer, sizeof buffer);
    return buffer;
}

bool same_prefix(const IpAddress& a, const IpAddress& b, int bits) noexcept {
    if (a.family() != b.family()) {
        return false;
    }
    bits = std::clamp(bits, 0, a.bit_length());
    const auto& x = a.bytes();
    const auto& y = b.bytes();
    const int whole = bits / 8;
    if (std::memcmp(x.data(), y.data(), static_cast<std::size_t>(whole)) != 0) {
        return false;
    }
    const int rest = bits % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (x[whole] & mask) == (y[whole] & mask);
}

Result<Cidr> Cidr::parse(std::string_view text) {
    text = trim(text);
    const auto slash = text.find('/');
    auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) {
        return std::unexpected(address.error());
    }
    int length = address->bit_length();
    if (slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        const auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), length);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
            length < 0 || length > address->bit_length()) {
            return fail(ErrorCode::InvalidInput, fmt::format("bad prefix length in '{}'", text));
        }
    }
    return of(*address, length);
}

Cidr Cidr::of(const IpAddress& address, int prefix_length) {
    Cidr cidr;
    cidr.prefix_length_ = std::clamp(prefix_length, 0, address.bit_length());
    auto bytes = address.bytes();
    for (int bit = cidr.prefix_length_; bit < address.bit_length(); ++bit) {
        bytes[bit / 8] = static_cast<std::uint8_t>(bytes[bit / 8] & ~(0x80 >> (bit % 8)));
    }
    cidr.base_ = IpAddress::from_bytes(address.family(), bytes.data());
    return cidr;
}

bool Cidr::contains(const IpAddress& address) const noexcept {
    const IpAddress candidate = base_.is_v4() ? address.unmapped() : address;
    return same_prefix(base_, candidate, prefix_length_);
}

std::string Cidr::to_string() const {
    return fmt::format("{}/{}", base_.to_string(), prefix_length_);
}

}  // namespace mailwarden::util
