// keys.cpp - Redis key names (the only file that builds them) and the key-part encoding
// that keeps user data from colliding with or escaping into other keys.
//
// Keys are always sent as one argv element (redisAppendCommandArgv), never formatted into
// a command string, so no byte can inject a command; key_part() additionally keeps keys
// bounded and printable. SHA-256 is implemented here to keep OpenSSL in auth/dkim only.
#include "store/keys.hpp"

#include <array>
#include <chrono>
#include <cstdint>

#include <fmt/format.h>

#include "util/ascii.hpp"

namespace mailwarden::store {
namespace {

constexpr std::array<std::uint32_t, 64> kSha256Rounds = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

void sha256_block(std::array<std::uint32_t, 8>& h, const unsigned char* block) {
    std::array<std::uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i) {
        w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
               (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
        const auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    auto [a, b, c, d, e, f, g, hh] = h;
    for (int i = 0; i < 64; ++i) {
        const auto s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const auto ch = (e & f) ^ (~e & g);
        const auto t1 = hh + s1 + ch + kSha256Rounds[i] + w[i];
        const auto s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const auto maj = (a & b) ^ (a & c) ^ (b & c);
        const auto t2 = s0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

bool keep_verbatim(std::string_view text) {
    if (text.empty() || text.size() > kMaxKeyPartBytes || text.front() == '#') {
        return false;
    }
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t full = data.size() / 64;
    for (std::size_t i = 0; i < full; ++i) {
        sha256_block(h, bytes + 64 * i);
    }
    // FIPS 180-4 §5.1.1: a 1 bit, zeros, then the bit length as 64-bit big-endian.
    std::array<unsigned char, 128> tail{};
    const std::size_t rest = data.size() - 64 * full;
    for (std::size_t i = 0; i < rest; ++i) {
        tail[i] = bytes[64 * full + i];
    }
    tail[rest] = 0x80;
    const std::size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
    const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    for (int i = 0; i < 8; ++i) {
        tail[tail_len - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
    }
    for (std::size_t off = 0; off < tail_len; off += 64) {
        sha256_block(h, tail.data() + off);
    }
    std::string out;
    out.reserve(64);
    for (auto word : h) {
        out += fmt::format("{:08x}", word);
    }
    return out;
}

std::string hour_stamp(util::SystemTime t) {
    using namespace std::chrono;
    const auto hour = floor<hours>(t);
    const auto day = floor<days>(hour);
    const year_month_day ymd{day};
    return fmt::format("{:04}{:02}{:02}{:02}", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       (hour - day).count());
}

Keys::Keys(std::string prefix) : prefix_(std::move(prefix)) {}

std::string Keys::events() const {
    return prefix_ + "events";
}

std::string Keys::codes(util::SystemTime hour) const {
    return prefix_ + "codes:" + hour_stamp(hour);
}

std::string Keys::sender(std::string_view address) const {
    return prefix_ + "sender:" + key_part(util::to_lower(address));
}

std::string Keys::rate_limit(std::string_view rule, std::string_view key) const {
    // A middle segment must not contain the separator; the last one may.
    const std::string rule_part = rule.find(':') == std::string_view::npos
                                      ? key_part(rule)
                                      : "#" + sha256_hex(rule).substr(0, 32);
    return prefix_ + "rl:" + rule_part + ":" + key_part(key);
}

std::string Keys::account(std::string_view login) const {
    return prefix_ + "acct:" + key_part(login);
}

std::string Keys::held() const {
    return prefix_ + "held";
}

std::string Keys::login_of(std::string_view sender) const {
    return prefix_ + "login_of:" + key_part(util::to_lower(sender));
}

std::string Keys::overrides() const {
    return prefix_ + "overrides";
}

std::string Keys::failure_counter(std::string_view dimension, util::SystemTime hour) const {
    return prefix_ + "fail:count:" + std::string(dimension) + ":" + hour_stamp(hour);
}

std::string Keys::failure_list(std::string_view owner, std::string_view who) const {
    const std::string normalised = owner == "login" ? std::string(who) : util::to_lower(who);
    return prefix_ + "fail:recent:" + std::string(owner) + ":" + key_part(normalised);
}

std::string Keys::key_part(std::string_view user_text) {
    if (keep_verbatim(user_text)) {
        return std::string(user_text);
    }
    return "#" + sha256_hex(user_text).substr(0, 32);
}

}  // namespace mailwarden::store
