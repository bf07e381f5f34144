// enhanced_status.hpp - RFC 3463 enhanced status codes: exact validation and parts.
//
// A code is class "." subject "." detail, with class in {2,4,5}, subject 1-3 digits and
// detail 1-3 digits (RFC 3463 §2). Validation follows the grammar exactly.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mailwarden::smtp {

/// The three numbers of an enhanced status code.
struct EnhancedStatus {
    int klass = 0;
    int subject = 0;
    int detail = 0;

    /// "5.7.1".
    std::string to_string() const;
    friend bool operator==(const EnhancedStatus&, const EnhancedStatus&) = default;
};

/// Length of the valid enhanced status code that starts `text` (followed by the end or a
/// non-digit, non-dot character), or 0 when `text` does not start with one.
std::size_t enhanced_status_length(std::string_view text) noexcept;

/// Parses a whole string as an enhanced status code ("4.7.1"); nullopt if it is not one.
std::optional<EnhancedStatus> parse_enhanced_status(std::string_view text) noexcept;

}  // namespace mailwarden::smtp
