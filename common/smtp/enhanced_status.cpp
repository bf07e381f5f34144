#include "smtp/enhanced_status.hpp"

#include <fmt/format.h>

namespace mailwarden::smtp {

namespace {

constexpr std::size_t kMaxPartDigits = 3;  // RFC 3463 §2: subject and detail are 1*3digit

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Length of 1..3 digits at `pos`, or 0.
std::size_t digits_at(std::string_view text, std::size_t pos) noexcept {
    std::size_t n = 0;
    while (pos + n < text.size() && is_digit(text[pos + n])) {
        ++n;
    }
    return (n >= 1 && n <= kMaxPartDigits) ? n : 0;
}

}  // namespace

std::string EnhancedStatus::to_string() const {
    return fmt::format("{}.{}.{}", klass, subject, detail);
}

std::size_t enhanced_status_length(std::string_view text) noexcept {
    if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') ||
        text[1] != '.') {
        return 0;
    }
    std::size_t pos = 2;
    const std::size_t subject = digits_at(text, pos);
    if (subject == 0) {
        return 0;
    }
    pos += subject;
    if (pos >= text.size() || text[pos] != '.') {
        return 0;
    }
    ++pos;
    const std::size_t detail = digits_at(text, pos);
    if (detail == 0) {
        return 0;
    }
    pos += detail;
    if (pos < text.size() && text[pos] == '.') {
        return 0;  // "5.1.1.1" is not a code
    }
    return pos;
}

std::optional<EnhancedStatus> parse_enhanced_status(std::string_view text) noexcept {
    const std::size_t length = enhanced_status_length(text);
    if (length == 0 || length != text.size()) {
        return std::nullopt;
    }
    EnhancedStatus status;
    status.klass = text[0] - '0';
    std::size_t pos = 2;
    int* parts[] = {&status.subject, &status.detail};
    for (int* part : parts) {
        while (pos < text.size() && is_digit(text[pos])) {
            *part = *part * 10 + (text[pos] - '0');
            ++pos;
        }
        ++pos;  // skip '.'
    }
    return status;
}

}  // namespace mailwarden::smtp
