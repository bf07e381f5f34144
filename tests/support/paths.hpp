// paths.hpp - where tests find the source tree, the build tree and the shared corpora.
#pragma once

#include <filesystem>
#include <optional>

namespace mailwarden::testing {

/// The project's source directory.
std::filesystem::path source_dir();
/// The build directory (where the mailwarden and mailwardenctl binaries are).
std::filesystem::path binary_dir();
/// $MAILWARDEN_CORPORA, else ../shared/corpora beside the checkout; nullopt when absent
/// (a user's clone): the caller skips with a printed reason.
std::optional<std::filesystem::path> corpora_dir();

}  // namespace mailwarden::testing
