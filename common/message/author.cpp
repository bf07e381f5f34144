// author.cpp - RFC 5322 §3.4 / §3.6.2 From: parsing down to the author domain(s).
//
// One linear pass tokenizes the (possibly folded) value: atoms, quoted strings, comments
// (skipped, nesting counted, never recursed), domain literals, RFC 2047 encoded words (kept
// whole, so a comma or parenthesis inside one cannot split a mailbox) and the specials.
// A second linear pass splits the tokens into mailboxes. Work and memory are linear in the
// input, which is capped at kMaxFromBytes. Never throws.
#include "message/author.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "util/ascii.hpp"

namespace mailwarden::message {

namespace {

/// Longest From: value looked at; a header field this long is not mail, it is an attack.
constexpr std::size_t kMaxFromBytes = 2 * 1024 * 1024;
/// How much of the input an error message quotes.
constexpr std::size_t kMaxExcerptBytes = 60;
/// RFC 1035 §2.3.4 limits.
constexpr std::size_t kMaxLabelBytes = 63;
constexpr std::size_t kMaxDomainBytes = 253;

enum class TokenKind {
    Word,     ///< an atom, an encoded word or (kind Quoted) a quoted string
    Quoted,   ///< a quoted string; text is the raw content between the quotes
    Literal,  ///< a domain literal; text includes the brackets
    Special,  ///< one of < > @ , ; : .
};

struct Token {
    TokenKind kind = TokenKind::Word;
    std::string_view text;
};

struct Mailbox {
    std::string local;   ///< local part as written (quoted strings keep their quotes)
    std::string domain;  ///< lower case, no trailing dot
};

/// `text` cut to kMaxExcerptBytes, with control characters shown as '?', for messages.
std::string excerpt(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, kMaxExcerptBytes)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
    }
    if (text.size() > kMaxExcerptBytes) {
        out += "...";
    }
    return out;
}

/// RFC 5322 §3.2.3 atext, plus any non-ASCII byte (RFC 6532 UTF-8 headers).
bool is_atext(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80) {
        return true;
    }
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
           std::string_view::npos;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/// Length of an RFC 2047 encoded word starting at `text` ("=?cs?e?text?="), or 0.
std::size_t encoded_word_length(std::string_view text) {
    if (text.size() < 8 || text[0] != '=' || text[1] != '?') {
        return 0;
    }
    int questions = 0;  // the ones after "=?": charset?encoding?text?=
    for (std::size_t i = 2; i < text.size(); ++i) {
        const char c = text[i];
        if (is_space(c) || static_cast<unsigned char>(c) < 0x20) {
            return 0;
        }
        if (c == '?') {
            ++questions;
            if (questions == 3) {
                return i + 1 < text.size() && text[i + 1] == '=' ? i + 2 : 0;
            }
        }
    }
    return 0;
}

/// Splits a From: value into tokens; CFWS disappears (RFC 5322 §3.2.2).
util::Result<std::vector<Token>> tokenize(std::string_view v) {
    std::vector<Token> tokens;
    std::size_t i = 0;
    const std::size_t n = v.size();
    while (i < n) {
        const char c = v[i];
        if (is_space(c)) {
            ++i;
        } else if (c == '(') {
            const std::size_t start = i;
            int depth = 0;
            for (; i < n; ++i) {
                if (v[i] == '\\') {
                    ++i;
                } else if (v[i] == '(') {
                    ++depth;
                } else if (v[i] == ')' && --depth == 0) {
                    break;
                }
            }
            if (i >= n) {
                return util::fail(util::ErrorCode::InvalidInput,
                                  fmt::format("From: has an unterminated comment '{}'",
                                              excerpt(v.substr(start))));
            }
            ++i;
        } else if (c == '"') {
            const std::size_t start = i + 1;
            std::size_t j = start;
            while (j < n && v[j] != '"') {
                j += v[j] == '\\' ? 2 : 1;
            }
            if (j >= n) {
                return util::fail(util::ErrorCode::InvalidInput,
                                  fmt::format("From: has an unterminated quoted string '{}'",
                                              excerpt(v.substr(i))));
            }
            tokens.push_back({TokenKind::Quoted, v.substr(start, j - start)});
            i = j + 1;
        } else if (c == '[') {
            std::size_t j = i + 1;
            while (j < n && v[j] != ']') {
                j += v[j] == '\\' ? 2 : 1;
            }
            if (j >= n) {
                return util::fail(util::ErrorCode::InvalidInput,
                                  fmt::format("From: has an unterminated domain literal '{}'",
                                              excerpt(v.substr(i))));
            }
            tokens.push_back({TokenKind::Literal, v.substr(i, j + 1 - i)});
            i = j + 1;
        } else if (const std::size_t ew = encoded_word_length(v.substr(i)); ew > 0) {
            tokens.push_back({TokenKind::Word, v.substr(i, ew)});  // RFC 2047 §5 (3)
            i += ew;
        } else if (std::string_view("<>@,;:.").find(c) != std::string_view::npos) {
            tokens.push_back({TokenKind::Special, v.substr(i, 1)});
            ++i;
        } else if (is_atext(static_cast<unsigned char>(c))) {
            const std::size_t start = i;
            while (i < n && is_atext(static_cast<unsigned char>(v[i])) &&
                   encoded_word_length(v.substr(i)) == 0) {
                ++i;
            }
            if (i == start) {  // an encoded word right here: the loop above takes it next
                continue;
            }
            tokens.push_back({TokenKind::Word, v.substr(start, i - start)});
        } else {
            return util::fail(
                util::ErrorCode::InvalidInput,
                fmt::format("From: has an unexpected character {} at offset {} in '{}'",
                            static_cast<unsigned char>(c) < 0x20 || c == 0x7f
                                ? fmt::format("0x{:02x}", static_cast<unsigned char>(c))
                                : fmt::format("'{}'", c),
                            i, excerpt(v.substr(i >= 20 ? i - 20 : 0))));
        }
    }
    return tokens;
}

bool is_special(const Token& t, char c) {
    return t.kind == TokenKind::Special && t.text[0] == c;
}

/// The tokens as text again, for messages.
std::string render(std::span<const Token> tokens) {
    std::string out;
    for (const Token& t : tokens) {
        if (out.size() > kMaxExcerptBytes) {
            break;
        }
        const bool tight = t.kind == TokenKind::Special && t.text != "<" && t.text != ":";
        if (!out.empty() && !tight && out.back() != '.' && out.back() != '@' && out.back() != '<') {
            out.push_back(' ');
        }
        if (t.kind == TokenKind::Quoted) {
            out += '"' + std::string(t.text) + '"';
        } else {
            out += t.text;
        }
    }
    return excerpt(out);
}

/// RFC 1035 host-name rules, loosened for '_' and U-labels (RFC 6532): the domain of an
/// address, lower case without a trailing dot, or an error naming the problem.
util::Result<std::string> check_domain(std::string domain, std::string_view address) {
    if (!domain.empty() && domain.back() == '.') {
        domain.pop_back();
    }
    if (domain.empty()) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("From: address '{}' has an empty domain", address));
    }
    if (domain.size() > kMaxDomainBytes) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("From: domain '{}' is longer than {} bytes", excerpt(domain),
                                      kMaxDomainBytes));
    }
    for (std::string_view label : util::split(domain, '.')) {
        if (label.empty() || label.size() > kMaxLabelBytes) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("From: domain '{}' has a label that is empty or "
                                          "longer than {} bytes",
                                          excerpt(domain), kMaxLabelBytes));
        }
        for (char c : label) {
            const auto u = static_cast<unsigned char>(c);
            const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                            (u >= '0' && u <= '9') || c == '-' || c == '_' || u >= 0x80;
            if (!ok) {
                return util::fail(util::ErrorCode::InvalidInput,
                                  fmt::format("From: domain '{}' contains '{}', which no "
                                              "host name can",
                                              excerpt(domain), c));
            }
        }
    }
    return util::to_lower(domain);
}

/// addr-spec (RFC 5322 §3.4.1, with obs-local-part's loose dots).
util::Result<Mailbox> parse_addr_spec(std::span<const Token> tokens) {
    const std::string shown = render(tokens);
    const auto at = std::find_if(tokens.begin(), tokens.end(),
                                 [](const Token& t) { return is_special(t, '@'); });
    if (at == tokens.end()) {
        const bool only_words = std::all_of(tokens.begin(), tokens.end(), [](const Token& t) {
            return t.kind == TokenKind::Word || t.kind == TokenKind::Quoted || is_special(t, '.');
        });
        return util::fail(util::ErrorCode::InvalidInput,
                          only_words ? fmt::format("From: '{}' is a name without an address", shown)
                                     : fmt::format("From: '{}' has no '@domain'", shown));
    }
    Mailbox box;
    bool has_word = false;
    for (auto it = tokens.begin(); it != at; ++it) {
        if (it->kind == TokenKind::Word) {
            box.local += it->text;
            has_word = true;
        } else if (it->kind == TokenKind::Quoted) {
            box.local += '"' + std::string(it->text) + '"';
            has_word = true;
        } else if (is_special(*it, '.')) {
            box.local += '.';
        } else {
            return util::fail(
                util::ErrorCode::InvalidInput,
                fmt::format("From: local part of '{}' contains '{}'", shown, it->text));
        }
    }
    if (!has_word) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("From: address '{}' has an empty local part", shown));
    }
    std::string domain;
    for (auto it = at + 1; it != tokens.end(); ++it) {
        if (it->kind == TokenKind::Literal) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("From: address '{}' has an address literal, not "
                                          "a domain",
                                          shown));
        }
        if (it->kind == TokenKind::Word) {
            if (!domain.empty() && domain.back() != '.') {
                return util::fail(util::ErrorCode::InvalidInput,
                                  fmt::format("From: domain of '{}' has a space in it", shown));
            }
            domain += it->text;
        } else if (is_special(*it, '.')) {
            if (domain.empty() || domain.back() == '.') {
                return util::fail(util::ErrorCode::InvalidInput,
                                  fmt::format("From: domain of '{}' has an empty label", shown));
            }
            domain += '.';
        } else {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("From: address '{}' has '{}' in its domain", shown,
                                          it->kind == TokenKind::Quoted ? "\"" : it->text));
        }
    }
    auto checked = check_domain(std::move(domain), shown);
    if (!checked) {
        return std::unexpected(checked.error());
    }
    box.domain = std::move(*checked);
    return box;
}

/// mailbox (RFC 5322 §3.4): name-addr (with obs-route) or addr-spec.
util::Result<Mailbox> parse_mailbox(std::span<const Token> tokens) {
    const auto open = std::find_if(tokens.begin(), tokens.end(),
                                   [](const Token& t) { return is_special(t, '<'); });
    if (open == tokens.end()) {
        return parse_addr_spec(tokens);
    }
    for (auto it = tokens.begin(); it != open; ++it) {  // display-name = phrase / obs-phrase
        if (it->kind == TokenKind::Special && !is_special(*it, '.')) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("From: display name of '{}' contains '{}' outside "
                                          "quotes",
                                          render(tokens), it->text));
        }
    }
    const auto close =
        std::find_if(open + 1, tokens.end(), [](const Token& t) { return is_special(t, '>'); });
    if (close == tokens.end()) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("From: '{}' has '<' without '>'", render(tokens)));
    }
    if (close + 1 != tokens.end()) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("From: '{}' has text after '>'", render(tokens)));
    }
    auto inner = std::span<const Token>(open + 1, close);
    if (!inner.empty() && is_special(inner.front(), '@')) {  // obs-route "@a,@b:" (§4.4)
        const auto colon = std::find_if(inner.begin(), inner.end(),
                                        [](const Token& t) { return is_special(t, ':'); });
        if (colon == inner.end()) {
            return util::fail(
                util::ErrorCode::InvalidInput,
                fmt::format("From: '{}' has a source route without ':'", render(tokens)));
        }
        inner = std::span<const Token>(colon + 1, inner.end());
    }
    if (inner.empty()) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("From: '{}' has an empty address <>", render(tokens)));
    }
    return parse_addr_spec(inner);
}

/// mailbox-list / obs-mbox-list (RFC 5322 §3.4, §4.4): empty members are skipped; group
/// syntax (RFC 6854) is refused because a group names no author.
util::Result<std::vector<Mailbox>> parse_mailbox_list(std::string_view value) {
    if (value.size() > kMaxFromBytes) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("From: is {} bytes long, more than the {} looked at",
                                      value.size(), kMaxFromBytes));
    }
    auto tokens = tokenize(value);
    if (!tokens) {
        return std::unexpected(tokens.error());
    }
    std::vector<Mailbox> boxes;
    std::size_t start = 0;
    bool in_angle = false;
    const std::vector<Token>& t = *tokens;
    for (std::size_t i = 0; i <= t.size(); ++i) {
        if (i < t.size()) {
            if (is_special(t[i], '<')) {
                in_angle = true;
            } else if (is_special(t[i], '>')) {
                in_angle = false;
            }
            if (!in_angle && (is_special(t[i], ':') || is_special(t[i], ';'))) {
                return util::fail(
                    util::ErrorCode::InvalidInput,
                    fmt::format("From: '{}' uses group syntax, which names no author mailbox",
                                render(std::span<const Token>(t).subspan(
                                    start, std::min<std::size_t>(t.size() - start, 12)))));
            }
            if (in_angle || !is_special(t[i], ',')) {
                continue;
            }
        }
        if (i > start) {
            auto box = parse_mailbox(std::span<const Token>(t).subspan(start, i - start));
            if (!box) {
                return std::unexpected(box.error());
            }
            boxes.push_back(std::move(*box));
        }
        start = i + 1;
    }
    if (boxes.empty()) {
        return util::fail(util::ErrorCode::InvalidInput, "From: names no mailbox");
    }
    return boxes;
}

util::Result<std::string_view> single_value(std::span<const std::string_view> from_values) {
    if (from_values.empty()) {
        return util::fail(util::ErrorCode::InvalidInput, "the message has no From: header field");
    }
    if (from_values.size() > 1) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("the message has {} From: header fields; RFC 5322 §3.6 "
                                      "allows exactly one",
                                      from_values.size()));
    }
    return from_values.front();
}

}  // namespace

util::Result<std::vector<std::string>> author_domains(
    std::span<const std::string_view> from_values) {
    auto value = single_value(from_values);
    if (!value) {
        return std::unexpected(value.error());
    }
    auto boxes = parse_mailbox_list(*value);
    if (!boxes) {
        return std::unexpected(boxes.error());
    }
    std::vector<std::string> domains;
    for (Mailbox& box : *boxes) {
        if (std::find(domains.begin(), domains.end(), box.domain) == domains.end()) {
            domains.push_back(std::move(box.domain));
        }
    }
    return domains;
}

util::Result<std::string> author_domain(std::span<const std::string_view> from_values) {
    auto domains = author_domains(from_values);
    if (!domains) {
        return std::unexpected(domains.error());
    }
    if (domains->size() > 1) {
        std::string list;
        for (std::size_t i = 0; i < domains->size() && i < 4; ++i) {
            list += (i ? ", " : "") + excerpt((*domains)[i]);
        }
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("From: has mailboxes in {} different domains ({}{}); "
                                      "DMARC needs exactly one author domain (RFC 9989 §5.3.1)",
                                      domains->size(), list, domains->size() > 4 ? ", ..." : ""));
    }
    return std::move(domains->front());
}

util::Result<std::string> author_address(std::string_view from_value) {
    auto boxes = parse_mailbox_list(from_value);
    if (!boxes) {
        return std::unexpected(boxes.error());
    }
    if (boxes->size() > 1) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("From: has {} mailboxes, not one", boxes->size()));
    }
    return boxes->front().local + "@" + boxes->front().domain;
}

}  // namespace mailwarden::message
