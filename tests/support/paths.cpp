#include "support/paths.hpp"

#include <cstdlib>

namespace mailwarden::testing {

std::filesystem::path source_dir() { return MW_SOURCE_DIR; }

std::filesystem::path binary_dir() {
    if (const char* dir = std::getenv("MW_BINARY_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    return MW_BINARY_DIR;
}

std::optional<std::filesystem::path> corpora_dir() {
    std::filesystem::path dir = MW_CORPORA_DEFAULT;
    if (const char* env = std::getenv("MAILWARDEN_CORPORA"); env != nullptr && *env != '\0') {
        dir = env;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) {
        return std::filesystem::weakly_canonical(dir, ec);
    }
    return std::nullopt;
}

}  // namespace mailwarden::testing
