// temp_dir.cpp - mkdtemp-based temporary directories and whole-file helpers.
//
// Directories are created 0700 under $TMPDIR (tests that need other users to enter them,
// like the private Postfix, chmod them). Files are written to a temporary name and renamed,
// so a daemon that reloads never reads half a config.
#include "support/temp_dir.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace mailwarden::testing {

TempDir::TempDir(std::string_view prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        fmt::format("{}/{}-XXXXXX", base != nullptr && *base ? base : "/tmp", prefix);
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error("mkdtemp " + tmpl + " failed");
    }
    path_ = tmpl;
}

TempDir::~TempDir() {
    if (const char* keep = std::getenv("MW_KEEP_TEMP"); keep != nullptr && *keep == '1') {
        std::cerr << "kept temporary directory " << path_ << "\n";
        return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(std::string_view name, std::string_view content) const {
    const auto file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    if (auto ok = write_file(file, content); !ok) {
        throw std::runtime_error(ok.error().message);
    }
    return file;
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

util::Result<void> write_file(const std::filesystem::path& file, std::string_view content) {
    const auto tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        if (!out) {
            return util::fail(util::ErrorCode::Unavailable, "cannot write " + tmp);
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        return util::fail(util::ErrorCode::Unavailable,
                          fmt::format("rename {}: {}", file.string(), ec.message()));
    }
    return {};
}

}  // namespace mailwarden::testing
