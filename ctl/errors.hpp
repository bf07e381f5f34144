// errors.hpp - how a mailwardenctl command fails: a message on stderr, a non-zero exit.
#pragma once

#include <string_view>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

namespace mailwarden::ctl {

/// Prints "mailwardenctl: MESSAGE" to stderr and ends the command with `exit_code`.
[[noreturn]] inline void fail(std::string_view message, int exit_code = 2) {
    fmt::print(stderr, "mailwardenctl: {}\n", message);
    throw CLI::RuntimeError(exit_code);
}

}  // namespace mailwarden::ctl
