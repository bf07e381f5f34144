// macro.cpp - SPF macro expansion (RFC 7208 §7).
#include "auth/spf/macro.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "util/ascii.hpp"

namespace mailwarden::auth::spf {

namespace {

// RFC 7208 §7.1: delimiter = "." / "-" / "+" / "," / "/" / "_" / "="
constexpr std::string_view kDelimiters = ".-+,/_=";
// More right-hand parts than any domain name can have; larger transformers are clamped.
constexpr int kMaxParts = 128;

struct Macro {
    char letter = 0;     // lower-case
    bool upper = false;  // URL-escape the value (RFC 7208 §7.3)
    int keep_parts = 0;  // 0 = all
    bool reverse = false;
    std::string_view delimiters;  // empty = "."
};

bool is_macro_letter(char lower, MacroMode mode) {
    switch (lower) {
        case 's':
        case 'l':
        case 'o':
        case 'd':
        case 'i':
        case 'p':
        case 'v':
        case 'h':
            return true;
        case 'c':
        case 'r':
        case 't':  // RFC 7208 §7.2: only in "exp" text
            return mode == MacroMode::Explanation;
        default:
            return false;
    }
}

util::Error syntax(std::string message) {
    return util::Error{util::ErrorCode::InvalidInput, std::move(message), std::nullopt};
}

// Parses the macro starting after "%{" at text[pos]; on success pos is past the '}'.
std::expected<Macro, util::Error> parse_macro(std::string_view text, std::size_t& pos,
                                              MacroMode mode) {
    const std::size_t start = pos - 2;
    const auto close = text.find('}', pos);
    if (close == std::string_view::npos) {
        return std::unexpected(syntax(fmt::format("unterminated macro '{}'", text.substr(start))));
    }
    const std::string_view body = text.substr(pos, close - pos);
    const std::string_view whole = text.substr(start, close + 1 - start);
    if (body.empty()) {
        return std::unexpected(syntax(fmt::format("empty macro '{}'", whole)));
    }
    Macro macro;
    const char letter = body[0];
    macro.letter = util::to_lower(letter);
    macro.upper = letter >= 'A' && letter <= 'Z';
    if (!is_macro_letter(macro.letter, mode)) {
        return std::unexpected(syntax(fmt::format("invalid macro letter in '{}'", whole)));
    }
    std::size_t i = 1;
    if (i < body.size() && body[i] >= '0' && body[i] <= '9') {
        long digits = 0;
        while (i < body.size() && body[i] >= '0' && body[i] <= '9') {
            digits = std::min<long>(digits * 10 + (body[i] - '0'), kMaxParts);
            ++i;
        }
        if (digits == 0) {  // RFC 7208 §7.3: a DIGIT transformer must be nonzero
            return std::unexpected(syntax(fmt::format("zero transformer in '{}'", whole)));
        }
        macro.keep_parts = static_cast<int>(digits);
    }
    if (i < body.size() && (body[i] == 'r' || body[i] == 'R')) {
        macro.reverse = true;
        ++i;
    }
    macro.delimiters = body.substr(i);
    for (const char c : macro.delimiters) {
        if (kDelimiters.find(c) == std::string_view::npos) {
            return std::unexpected(syntax(fmt::format("invalid delimiter in '{}'", whole)));
        }
    }
    pos = close + 1;
    return macro;
}

bool is_literal_char(char c, MacroMode mode) {
    // RFC 7208 §7.1: macro-literal = %x21-24 / %x26-7E; explain-string also allows SP.
    const auto u = static_cast<unsigned char>(c);
    if (u == ' ') {
        return mode == MacroMode::Explanation;
    }
    return u >= 0x21 && u <= 0x7e && u != '%';
}

std::string ip_dotted(const util::IpAddress& ip) {
    if (ip.is_v4()) {
        return ip.to_string();
    }
    // RFC 7208 §7.3: IPv6 <ip> is dot-separated nibbles. Upper-case hex, as the OpenSPF
    // suite's reference implementation writes it (DNS names compare case-insensitively).
    constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(63);
    for (const auto byte : ip.bytes()) {
        if (!out.empty()) {
            out += '.';
        }
        out += kHex[byte >> 4];
        out += '.';
        out += kHex[byte & 0x0f];
    }
    return out;
}

std::string url_escape(std::string_view value) {
    // RFC 3986 §2.3 unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
    std::string out;
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += fmt::format("%{:02X}", u);
        }
    }
    return out;
}

std::string transform(std::string_view value, const Macro& macro) {
    if (macro.keep_parts == 0 && !macro.reverse && macro.delimiters.empty()) {
        return std::string(value);
    }
    const std::string_view delimiters = macro.delimiters.empty() ? "." : macro.delimiters;
    std::vector<std::string_view> parts;
    std::size_t begin = 0;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        if (i == value.size() || delimiters.find(value[i]) != std::string_view::npos) {
            parts.push_back(value.substr(begin, i - begin));
            begin = i + 1;
        }
    }
    if (macro.reverse) {
        std::reverse(parts.begin(), parts.end());
    }
    std::size_t first = 0;
    if (macro.keep_parts > 0 && parts.size() > static_cast<std::size_t>(macro.keep_parts)) {
        first = parts.size() - static_cast<std::size_t>(macro.keep_parts);
    }
    std::string out;
    for (std::size_t i = first; i < parts.size(); ++i) {
        if (i != first) {
            out += '.';
        }
        out += parts[i];
    }
    return out;
}

// Walks `text`, calling on_literal(string_view) and on_macro(Macro) in order.
template <class OnLiteral, class OnMacro>
util::Result<void> walk(std::string_view text, MacroMode mode, OnLiteral on_literal,
                        OnMacro on_macro) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const char c = text[pos];
        if (c != '%') {
            if (!is_literal_char(c, mode)) {
                return util::fail(util::ErrorCode::InvalidInput,
                                  fmt::format("invalid character 0x{:02x} in macro string",
                                              static_cast<unsigned char>(c)));
            }
            std::size_t end = pos + 1;
            while (end < text.size() && text[end] != '%' && is_literal_char(text[end], mode)) {
                ++end;
            }
            if (auto r = on_literal(text.substr(pos, end - pos)); !r) {
                return r;
            }
            pos = end;
            continue;
        }
        if (pos + 1 >= text.size()) {  // RFC 7208 §7.1: a lone '%' is a syntax error
            return util::fail(util::ErrorCode::InvalidInput, "'%' at the end of a macro string");
        }
        const char next = text[pos + 1];
        std::string_view escape;
        switch (next) {
            case '%':
                escape = "%";
                break;
            case '_':
                escape = " ";
                break;
            case '-':
                escape = "%20";
                break;
            case '{':
                break;
            default:
                return util::fail(util::ErrorCode::InvalidInput,
                                  fmt::format("'%' followed by '{}' in macro string", next));
        }
        if (!escape.empty()) {
            if (auto r = on_literal(escape); !r) {
                return r;
            }
            pos += 2;
            continue;
        }
        pos += 2;
        auto macro = parse_macro(text, pos, mode);
        if (!macro) {
            return std::unexpected(macro.error());
        }
        if (auto r = on_macro(*macro); !r) {
            return r;
        }
    }
    return {};
}

}  // namespace

util::Result<void> validate_macro_string(std::string_view text, MacroMode mode) {
    return walk(
        text, mode, [](std::string_view) -> util::Result<void> { return {}; },
        [](const Macro&) -> util::Result<void> { return {}; });
}

util::Result<std::string> expand(std::string_view text, const MacroContext& context,
                                 MacroMode mode) {
    std::string out;
    std::string p_value;
    bool p_known = false;
    auto append = [&](std::string_view piece) -> util::Result<void> {
        if (out.size() + piece.size() > kMaxExpansionOctets) {
            return util::fail(
                util::ErrorCode::InvalidInput,
                fmt::format("macro expansion longer than {} octets", kMaxExpansionOctets));
        }
        out += piece;
        return {};
    };
    auto on_macro = [&](const Macro& macro) -> util::Result<void> {
        std::string value;
        switch (macro.letter) {
            case 's':
                value = context.sender;
                break;
            case 'l':
                value = context.local_part;
                break;
            case 'o':
                value = context.sender_domain;
                break;
            case 'd':
                value = context.domain;
                break;
            case 'h':
                value = context.helo;
                break;
            case 'r':
                value = context.receiver;
                break;
            case 'i':
                value = ip_dotted(context.ip);
                break;
            case 'c':
                value = context.ip.to_string();
                break;  // RFC 7208 §7.3 readable form
            case 'v':
                value = context.ip.is_v4() ? "in-addr" : "ip6";
                break;
            case 't':
                value = std::to_string(context.timestamp);
                break;
            case 'p':
                if (!p_known) {
                    p_value = context.validated_domain ? context.validated_domain() : "unknown";
                    p_known = true;
                }
                value = p_value;
                break;
            default:
                break;
        }
        std::string transformed = transform(value, macro);
        if (macro.upper) {
            transformed = url_escape(transformed);
        }
        return append(transformed);
    };
    if (auto r = walk(text, mode, append, on_macro); !r) {
        return std::unexpected(r.error());
    }
    return out;
}

std::string truncate_domain(std::string name) {
    // RFC 7208 §7.3: remove successive labels from the left until it fits.
    std::size_t cut = 0;
    while (name.size() - cut > kMaxDomainOctets) {
        const auto dot = name.find('.', cut);
        if (dot == std::string::npos) {
            return {};
        }
        cut = dot + 1;
    }
    return name.substr(cut);
}

}  // namespace mailwarden::auth::spf
