// postfix_instance.hpp - a private, real Postfix on loopback for end-to-end tests.
//
// Own config_directory, queue_directory and data_directory in a temporary directory;
// maillog_file through postlogd (no syslog); smtpd and a SASL submission port on free
// loopback ports; XCLIENT from loopback; local.test delivered by virtual(8) to Maildirs;
// every other domain to tests/e2e/sink.py on loopback. Needs root (Postfix's master).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/smtp_client.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

namespace mailwarden::testing {

/// How the instance is wired.
struct PostfixOptions {
    /// smtpd_milters and non_smtpd_milters, e.g. "inet:127.0.0.1:8891"; empty = no milter.
    std::string milter;
    std::string default_action = "tempfail";  ///< milter_default_action
    /// Sink rules ("localpart RCPT|DATA reply", " | " between lines); empty = accept all.
    std::string sink_rules;
    /// Extra main.cf lines, applied last.
    std::vector<std::string> extra_main_cf;
};

/// The reason end-to-end tests cannot run here (not root, Postfix or Python modules
/// missing), or nullopt when they can.
std::optional<std::string> postfix_unavailable_reason();

/// A running private Postfix and its sink; stopped with `postfix -c DIR stop` (bounded,
/// then abort) when destroyed.
class PostfixInstance {
  public:
    static util::Result<std::unique_ptr<PostfixInstance>> start(PostfixOptions options);
    PostfixInstance(const PostfixInstance&) = delete;
    PostfixInstance& operator=(const PostfixInstance&) = delete;
    ~PostfixInstance();

    std::uint16_t smtp_port() const { return smtp_port_; }
    std::uint16_t submission_port() const { return submission_port_; }
    std::uint16_t sink_port() const { return sink_port_; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::filesystem::path config_dir() const { return dir() / "conf"; }
    /// The Maildir of a local user (alice, bob, carol, postmaster, catchall).
    std::filesystem::path maildir(std::string_view user) const { return dir() / "mail" / user; }
    std::filesystem::path sink_dir() const { return dir() / "sink"; }
    /// The Postfix log so far, and the sink's log.
    std::string maillog() const;
    std::string sink_log() const;

    /// Waits (bounded) for a message in `user`'s Maildir new/ whose text contains `needle`;
    /// returns its content.
    std::optional<std::string> wait_for_mail(
        std::string_view user, std::string_view needle,
        std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
    /// Same for messages the sink accepted.
    std::optional<std::string> wait_for_sink_mail(
        std::string_view needle,
        std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
    /// Waits (bounded) until the Postfix log contains `needle`.
    bool wait_for_log(std::string_view needle, std::chrono::milliseconds timeout) const;

    /// An SMTP session on the smtpd port that Postfix, and so the milter, sees as coming
    /// from `address` with HELO `helo` (XCLIENT; the loopback client is authorised for it).
    util::Result<SmtpClient> remote_client(const std::string& address,
                                           const std::string& helo) const;

    /// `postfix -c DIR stop`, bounded; then `abort` and SIGKILL of the master if needed.
    void stop();

  private:
    PostfixInstance() = default;
    util::Result<void> write_config(const PostfixOptions& options);
    std::optional<pid_t> master_pid() const;

    TempDir dir_{"mw-postfix"};
    std::uint16_t smtp_port_ = 0;
    std::uint16_t submission_port_ = 0;
    std::uint16_t sink_port_ = 0;
    bool started_ = false;
    std::unique_ptr<Process> sink_;
};

}  // namespace mailwarden::testing
