// ascii.hpp - locale-independent ASCII helpers for protocol text (never for UTF-8 content).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailwarden::util {

/// 'A'-'Z' mapped to 'a'-'z'; every other byte unchanged.
constexpr char to_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// A copy of `text` with ASCII letters lower-cased.
std::string to_lower(std::string_view text);

/// Case-insensitive (ASCII) equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Case-insensitive (ASCII) prefix test.
bool istarts_with(std::string_view text, std::string_view prefix) noexcept;

/// `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view text) noexcept;

/// Splits on `separator`; empty fields are kept.
std::vector<std::string_view> split(std::string_view text, char separator);

}  // namespace mailwarden::util
