// daemon_fixture.hpp - the real mailwarden daemon for integration tests: a YAML config in a
// private temporary directory, `mailwarden -c cfg --foreground` listening on a free loopback
// port, its log, reloads, and a bounded stop. Config templates use @PORT@ (the milter port)
// and @DIR@ (the temporary directory); other placeholders come from Daemon::Options::vars.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/milter_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

namespace mailwarden::testing {

/// The access-list test config of the daemon contract (memory store).
std::string default_daemon_config();

/// ${MW_BINARY_DIR}/milter/mailwarden and ${MW_BINARY_DIR}/ctl/mailwardenctl.
std::filesystem::path daemon_binary();
std::filesystem::path ctl_binary();

/// A running daemon; stopped (SIGTERM, bounded, then SIGKILL) when destroyed.
class Daemon {
  public:
    struct Options {
        /// Extra placeholder -> value substitutions in the config template.
        std::vector<std::pair<std::string, std::string>> vars;
        /// Extra command-line arguments after `-c cfg --foreground`.
        std::vector<std::string> args;
        /// When set, passed as `-p LISTEN` (placeholders substituted) and used by connect().
        std::string listen;
        std::chrono::milliseconds start_timeout = std::chrono::seconds(20);
    };

    /// Writes the config and starts the daemon; an error (with the log) when it does not
    /// accept connections within the timeout.
    static util::Result<std::unique_ptr<Daemon>> start(std::string_view config_template,
                                                       Options options);
    static util::Result<std::unique_ptr<Daemon>> start(std::string_view config_template) {
        return start(config_template, Options{});
    }

    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    ~Daemon();

    std::uint16_t port() const { return port_; }
    /// "inet:PORT@127.0.0.1", or the -p override.
    std::string socket() const;
    const std::filesystem::path& dir() const { return dir_.path(); }
    const std::filesystem::path& config_path() const { return config_; }
    Process& process() { return *process_; }
    /// The daemon's stderr/stdout so far.
    std::string log() const { return process_->output(); }

    /// Replaces the config file (placeholders substituted) without signalling.
    util::Result<void> write_config(std::string_view config_template);
    /// Sends SIGHUP and waits until the log grew (bounded); returns the new log text.
    std::string reload(std::chrono::milliseconds settle = std::chrono::seconds(2));
    /// Connects and negotiates like Postfix.
    util::Result<MilterClient> connect();
    /// SIGTERM, bounded wait, SIGKILL; the exit status.
    std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(15));

    /// Substitutes @PORT@, @DIR@ and the option vars in `text`.
    std::string expand(std::string_view text) const;

  private:
    Daemon() = default;

    TempDir dir_{"mw-daemon"};
    std::filesystem::path config_;
    std::uint16_t port_ = 0;
    std::string listen_;
    std::vector<std::pair<std::string, std::string>> vars_;
    std::unique_ptr<Process> process_;
};

/// Replaces every `from` by `to` in `text`.
std::string replace_all(std::string text, std::string_view from, std::string_view to);

}  // namespace mailwarden::testing
