// ip_address.hpp - IPv4/IPv6 addresses and CIDR ranges, parsed strictly with inet_pton.
//
// An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is kept as written but `unmapped()` gives
// the IPv4 address, which is what SPF (RFC 7208 §5) and access lists match against.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace mailwarden::util {

/// An IPv4 or IPv6 address. Value type; ordered and comparable.
class IpAddress {
public:
    enum class Family { V4, V6 };

    /// Parses "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", or the bracketed forms
    /// "[2001:db8::1]" / "[IPv6:2001:db8::1]" that MTAs write. InvalidInput otherwise.
    static Result<IpAddress> parse(std::string_view text);

    /// An IPv4 address from four octets.
    static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
    /// From raw network-order bytes: 4 bytes for IPv4, 16 for IPv6.
    static IpAddress from_bytes(Family family, const std::uint8_t* bytes);

    Family family() const noexcept { return family_; }
    bool is_v4() const noexcept { return family_ == Family::V4; }
    /// True for ::ffff:a.b.c.d.
    bool is_v4_mapped() const noexcept;
    /// The IPv4 address for an IPv4-mapped IPv6 address; the address itself otherwise.
    IpAddress unmapped() const noexcept;
    /// Network-order bytes: the first 4 for IPv4, all 16 for IPv6.
    const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }
    /// 32 or 128.
    int bit_length() const noexcept { return is_v4() ? 32 : 128; }
    /// Canonical text (inet_ntop).
    std::string to_string() const;

    friend bool operator==(const IpAddress&, const IpAddress&) = default;
    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

private:
    Family family_ = Family::V4;
    std::array<std::uint8_t, 16> bytes_{};
};

/// An address range: base address and prefix length ("192.0.2.0/24", "2001:db8::/32").
class Cidr {
public:
    /// Parses "ADDR" (a host range) or "ADDR/LEN"; LEN within 0..32 or 0..128.
    static Result<Cidr> parse(std::string_view text);
    /// The range of `prefix_length` leading bits of `address`; the length is clamped.
    static Cidr of(const IpAddress& address, int prefix_length);

    const IpAddress& base() const noexcept { return base_; }
    int prefix_length() const noexcept { return prefix_length_; }
    /// True when `address` (unmapped first, for IPv4 ranges) lies in the range.
    bool contains(const IpAddress& address) const noexcept;
    /// "base/len".
    std::string to_string() const;

private:
    IpAddress base_;
    int prefix_length_ = 0;
};

/// True when the first `bits` bits of a and b are equal (families must match).
bool same_prefix(const IpAddress& a, const IpAddress& b, int bits) noexcept;

}  // namespace mailwarden::util
