// tag_list.cpp - RFC 6376 §3.2 tag-list parsing.
#include "auth/dkim/tag_list.hpp"

#include <fmt/format.h>

namespace mailwarden::auth::dkim {

namespace {

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnumpunc(char c) {
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}
// VALCHAR = %x21-3A / %x3C-7E (printable except ";"). Bytes >= 0x80 are accepted too:
// RFC 6376 §3.2 allows 8-bit values where the protocol does (RFC 6532 headers).
bool is_valchar(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 0x21 && u != 0x3B && u != 0x7F);
}

std::string printable(std::string_view s) {
    std::string out;
    for (const char c : s.substr(0, 40)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7F) ? c : '?';
    }
    if (s.size() > 40) {
        out += "...";
    }
    return out;
}

}  // namespace

std::optional<std::string_view> TagList::find(std::string_view name) const noexcept {
    const Tag* t = tag(name);
    return t != nullptr ? std::optional<std::string_view>(t->value) : std::nullopt;
}

const Tag* TagList::tag(std::string_view name) const noexcept {
    for (const Tag& t : tags_) {
        if (t.name == name) {
            return &t;
        }
    }
    return nullptr;
}

std::expected<TagList, std::string> parse_tag_list(std::string_view text) {
    TagList list;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find(';', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view spec = text.substr(pos, end - pos);
        const std::string_view trimmed = trim_fws(spec);
        if (trimmed.empty()) {
            // Only the last tag-spec may be empty: "a=b;" (RFC 6376 §3.2 [";"]).
            if (end < text.size() && !trim_fws(text.substr(end + 1)).empty()) {
                return std::unexpected("empty tag-spec between ';'");
            }
            if (end == text.size() && list.tags_.empty()) {
                return std::unexpected("empty tag-list");
            }
            break;
        }
        const std::size_t eq = spec.find('=');
        if (eq == std::string_view::npos) {
            return std::unexpected(fmt::format("tag '{}' has no '='", printable(trimmed)));
        }
        const std::string_view name = trim_fws(spec.substr(0, eq));
        if (name.empty() || !is_alpha(name.front())) {
            return std::unexpected(fmt::format("invalid tag name '{}'", printable(name)));
        }
        for (const char c : name) {
            if (!is_alnumpunc(c)) {
                return std::unexpected(fmt::format("invalid tag name '{}'", printable(name)));
            }
        }
        const std::string_view value = trim_fws(spec.substr(eq + 1));
        // tag-value = [ tval *( 1*(WSP / FWS) tval ) ]: only VALCHARs and inner folding.
        for (const char c : value) {
            if (!is_valchar(c) && !is_fws(c)) {
                return std::unexpected(
                    fmt::format("tag '{}' has an invalid character in its value", name));
            }
        }
        if (list.tag(name) != nullptr) {
            return std::unexpected(fmt::format("duplicate tag '{}'", name));
        }
        if (list.tags_.size() == kMaxTags) {
            return std::unexpected(fmt::format("more than {} tags", kMaxTags));
        }
        list.tags_.push_back(Tag{name, value, pos + eq + 1, end});
        if (end == text.size()) {
            break;
        }
        pos = end + 1;
    }
    return list;
}

std::string_view trim_fws(std::string_view s) noexcept {
    while (!s.empty() && is_fws(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_fws(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

std::string strip_fws(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (!is_fws(c)) {
            out += c;
        }
    }
    return out;
}

}  // namespace mailwarden::auth::dkim
