// units.hpp - human units in config values: durations ("200ms", "30s", "5m", "1h", "35d")
// and sizes ("64KB", "10MB", "1GB"; binary multiples).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "util/error.hpp"

namespace mailwarden::config {

/// Parses "<integer><unit>" with unit ms, s, m, h or d; a bare integer means seconds.
/// InvalidInput for anything else, negative values or values past 10 years.
util::Result<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Parses "<integer>[B|KB|MB|GB]" (1 KB = 1024 B). InvalidInput otherwise.
util::Result<std::uint64_t> parse_size(std::string_view text);

}  // namespace mailwarden::config
