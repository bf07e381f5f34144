// key_builder.cpp - injective, bounded, printable bucket keys from message facts.
#include "ratelimit/key_builder.hpp"

#include "store/keys.hpp"
#include "util/ascii.hpp"

namespace mailwarden::ratelimit {

namespace {

bool keep_verbatim(std::string_view text) {
    if (text.empty() || text.size() > kMaxReadablePart) {
        return false;
    }
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e || c == '#' || c == '|') {
            return false;
        }
    }
    return true;
}

bool readable(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '@' || c == '_' || c == '+' || c == '-' || c == ':';
}

std::string domain_of(std::string_view address) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos || at + 1 == address.size()) {
        return {};
    }
    return util::to_lower(address.substr(at + 1));
}

}  // namespace

std::string encode_part(std::string_view text) {
    if (keep_verbatim(text)) {
        return std::string(text);
    }
    std::string out;
    for (char c : text) {
        if (!readable(c) || out.size() == kReadablePrefix) {
            break;
        }
        out += c;
    }
    out += '#';
    out += store::sha256_hex(text).substr(0, 32);
    return out;
}

std::optional<std::string> subject(std::span<const KeyPart> key, const MessageFacts& facts,
                                   std::string_view recipient) {
    std::string out;
    for (auto part : key) {
        std::string value;
        switch (part) {
            case KeyPart::Login:
                value = util::to_lower(facts.login);
                break;
            case KeyPart::Sender:
                value = util::to_lower(facts.sender);
                break;
            case KeyPart::SenderDomain:
                value = domain_of(facts.sender);
                break;
            case KeyPart::ClientIp:
                if (facts.client_ip) {
                    value = facts.client_ip->unmapped().to_string();
                }
                break;
            case KeyPart::ClientPrefix:
                if (facts.client_ip) {
                    const auto ip = facts.client_ip->unmapped();
                    const int bits = ip.family() == util::IpAddress::Family::V4 ? 24 : 64;
                    value = util::Cidr::of(ip, bits).to_string();
                }
                break;
            case KeyPart::Recipient:
                value = util::to_lower(recipient);
                break;
        }
        if (value.empty()) {
            return std::nullopt;
        }
        if (!out.empty()) {
            out += '|';
        }
        out += encode_part(value);
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

std::string bucket_key(std::string_view rule, std::chrono::milliseconds period,
                       std::string_view subject) {
    std::string out(rule);
    out += ':';
    out += format_period(period);
    out += ':';
    out += subject;
    return out;
}

}  // namespace mailwarden::ratelimit
