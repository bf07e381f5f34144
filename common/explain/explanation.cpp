#include "explain/explanation.hpp"

#include <array>
#include <utility>

namespace mailwarden::explain {

namespace {

// Placeholder names and the words used when the value is unknown.
constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kPlaceholders{{
    {"recipient", "the recipient"},
    {"domain", "the recipient's domain"},
    {"sender", "the sender"},
    {"sender_domain", "the sender's domain"},
    {"remote_host", "the receiving server"},
    {"remote_ip", "the receiving server's address"},
    {"listed_ip", "the sending server's IP address"},
    {"list_name", "a blocklist"},
    {"status", "(none)"},
    {"reply_code", "(none)"},
    {"diagnostic", "(no diagnostic text)"},
    {"url", "the link in the error message"},
    {"category", "undefined"},
}};

}  // namespace

std::string_view to_string(MatchSource source) noexcept {
    switch (source) {
        case MatchSource::Pattern:
            return "pattern";
        case MatchSource::EnhancedStatus:
            return "enhanced-status";
        case MatchSource::ReplyCode:
            return "reply-code";
        case MatchSource::Fallback:
            return "fallback";
    }
    return "fallback";
}

bool is_known_placeholder(std::string_view name) noexcept {
    for (const auto& [known, fallback] : kPlaceholders) {
        if (known == name) {
            return true;
        }
    }
    return false;
}

std::string fill_placeholders(std::string_view text,
                              const std::map<std::string, std::string, std::less<>>& values) {
    std::string out;
    out.reserve(text.size() + 64);
    std::size_t pos = 0;
    while (pos < text.size()) {
        const char c = text[pos];
        if (c == '{' && pos + 1 < text.size() && text[pos + 1] == '{') {
            out.push_back('{');
            pos += 2;
            continue;
        }
        if (c == '}' && pos + 1 < text.size() && text[pos + 1] == '}') {
            out.push_back('}');
            pos += 2;
            continue;
        }
        if (c == '{') {
            const std::size_t close = text.find('}', pos + 1);
            if (close != std::string_view::npos) {
                const std::string_view name = text.substr(pos + 1, close - pos - 1);
                bool known = false;
                for (const auto& [placeholder, fallback] : kPlaceholders) {
                    if (placeholder != name) {
                        continue;
                    }
                    known = true;
                    const auto value = values.find(name);
                    if (value != values.end() && !value->second.empty()) {
                        out += value->second;
                    } else {
                        // Neutral words opening a sentence get a capital letter.
                        const bool sentence_start =
                            out.empty() || out.ends_with(". ") || out.ends_with(".\n");
                        const std::size_t at = out.size();
                        out += fallback;
                        if (sentence_start && out[at] >= 'a' && out[at] <= 'z') {
                            out[at] = static_cast<char>(out[at] - 'a' + 'A');
                        }
                    }
                    break;
                }
                if (known) {
                    pos = close + 1;
                    continue;
                }
            }
        }
        out.push_back(c);
        ++pos;
    }
    return out;
}

}  // namespace mailwarden::explain
