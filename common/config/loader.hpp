// loader.hpp - YAML configuration into a validated Config.
//
// Strict: an unknown key, a wrong type or a bad value is an error naming the file, line
// and column; all errors of a file are reported, not only the first. Exceptions from
// yaml-cpp stay inside; callers get values.
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "util/error.hpp"

namespace mailwarden::config {

/// The outcome of loading: a Config, or every error found (each with file:line:col).
using LoadResult = std::expected<Config, std::vector<util::Error>>;

/// Loads and validates a file.
LoadResult load_file(const std::filesystem::path& path);

/// Loads and validates YAML text; `name` stands for the file in error positions.
LoadResult load_string(std::string_view yaml, std::string_view name);

/// All errors as lines "file:line:col: message".
std::string describe(const std::vector<util::Error>& errors);

/// Turns Postfix's "inet:HOST:PORT" (and "inet:PORT@HOST", "inet6:PORT@HOST", "unix:PATH",
/// "local:PATH") into libmilter's form. InvalidInput for anything else.
util::Result<std::string> normalize_listen(std::string_view spec);

}  // namespace mailwarden::config
