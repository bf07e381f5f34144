// base64.cpp - strict base64 decoding (RFC 4648 §4) with folding whitespace ignored.
#include "auth/dkim/base64.hpp"

#include <array>

#include "auth/dkim/tag_list.hpp"

namespace mailwarden::auth::dkim {

namespace {

constexpr std::array<std::int8_t, 256> make_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) {
        v = -1;
    }
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
        t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}
constexpr auto kTable = make_table();

}  // namespace

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text) {
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t acc = 0;
    int bits = 0;
    int symbols = 0;
    int padding = 0;
    for (const char c : text) {
        if (is_fws(c)) {
            continue;
        }
        if (c == '=') {
            ++padding;
            ++symbols;
            if (padding > 2) {
                return std::nullopt;
            }
            continue;
        }
        const int v = kTable[static_cast<unsigned char>(c)];
        if (v < 0 || padding > 0) {  // not base64, or data after padding
            return std::nullopt;
        }
        ++symbols;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
        }
    }
    if (symbols % 4 != 0) {
        return std::nullopt;
    }
    // Padding must match the leftover bits (1 '=' leaves 2 bits, 2 '=' leave 4), and those
    // bits must be zero (RFC 4648 §3.5 canonical encoding is not required by DKIM: accept).
    if ((padding == 1 && bits != 2) || (padding == 2 && bits != 4) || (padding == 0 && bits != 0)) {
        return std::nullopt;
    }
    return out;
}

}  // namespace mailwarden::auth::dkim
