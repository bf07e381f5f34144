// process.hpp - a child process owned by a test: spawned with arguments and environment,
// stdout and stderr appended to one file, waited for with deadlines, and stopped (SIGTERM,
// bounded wait, SIGKILL) by the destructor whatever happened in the test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/error.hpp"

namespace mailwarden::testing {

/// What to run and where its output goes.
struct ProcessOptions {
    std::filesystem::path program;
    std::vector<std::string> args;  ///< without argv[0]
    /// Variables added to (or replacing those of) the test's environment.
    std::vector<std::pair<std::string, std::string>> env;
    std::filesystem::path output;  ///< stdout and stderr; /dev/null when empty
    std::optional<std::filesystem::path> cwd;
};

/// ProcessOptions for `program args...` with output discarded (set .output to keep it).
ProcessOptions command(std::filesystem::path program, std::vector<std::string> args);

/// RAII child process. Move-only.
class Process {
  public:
    using Duration = std::chrono::milliseconds;

    static util::Result<Process> spawn(ProcessOptions options);

    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    pid_t pid() const { return pid_; }
    const std::filesystem::path& output_path() const { return options_.output; }
    /// Everything the child wrote so far.
    std::string output() const;

    /// True while the child has not exited (reaps it when it has).
    bool running();
    /// Sends `signal` to the child (an error when it already exited).
    util::Result<void> signal(int signal);
    /// Waits up to `timeout` for the exit; the status is the exit code, or 128 + signal.
    std::optional<int> wait(Duration timeout);
    /// The exit status once known.
    std::optional<int> exit_status() const { return status_; }
    /// Waits until the output contains `needle` (after byte `from`); false on timeout or exit.
    bool wait_for_output(std::string_view needle, Duration timeout, std::size_t from = 0);
    /// Waits until 127.0.0.1:port accepts connections; false on timeout or exit.
    bool wait_for_port(std::uint16_t port, Duration timeout);
    /// SIGTERM, up to `grace` for the exit, then SIGKILL; returns the exit status.
    std::optional<int> stop(Duration grace = std::chrono::seconds(10));

  private:
    Process() = default;
    bool reap(int options);

    ProcessOptions options_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

/// Runs a program to completion (bounded); returns exit status and combined output.
struct RunResult {
    int status = -1;  ///< exit code, 128 + signal, or -1 on timeout (the child is killed)
    std::string output;
};
util::Result<RunResult> run(ProcessOptions options,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace mailwarden::testing
