// temp_dir.hpp - a private temporary directory removed with everything in it on destruction.
//
// Set MW_KEEP_TEMP=1 to keep it (the path is printed) when debugging a failed test.
#pragma once

#include <filesystem>
#include <string_view>

#include "util/error.hpp"

namespace mailwarden::testing {

/// RAII temporary directory under $TMPDIR (default /tmp), named `<prefix>-XXXXXX`.
class TempDir {
  public:
    explicit TempDir(std::string_view prefix = "mw-test");
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    const std::filesystem::path& path() const { return path_; }
    /// path() / name.
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }
    /// Writes `content` to path() / name (creating parent folders); returns the full path.
    std::filesystem::path write(std::string_view name, std::string_view content) const;

  private:
    std::filesystem::path path_;
};

/// Reads a whole file; empty when it cannot be read.
std::string read_file(const std::filesystem::path& file);
/// Writes a whole file atomically (temporary + rename).
util::Result<void> write_file(const std::filesystem::path& file, std::string_view content);

}  // namespace mailwarden::testing
