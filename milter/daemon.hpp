// daemon.hpp - the running milter: current config snapshot, store, event recorder, the
// libmilter listener, signal handling (SIGHUP reload, SIGTERM graceful stop).
//
// Start-up order (OpenSMTPD dispatcher.c): load config → open the listening socket as
// root → TCP_NODELAY / socket mode and owner → drop privileges → start store and recorder
// → serve. Errors before serving are fatal with a clear message; after that nothing is.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "milter/control_server.hpp"
#include "milter/runtime.hpp"
#include "milter/session.hpp"
#include "store/event_recorder.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"

namespace mailwarden::milter {

namespace native {
class Server;
}

/// Options from the command line that override or accompany the config file.
struct DaemonOptions {
    std::filesystem::path config_path;
    std::optional<std::string> listen_override;  ///< -p/--listen
};

class Daemon {
  public:
    /// `runtime` is the first snapshot, built with `backends` (which outlive reloads).
    Daemon(DaemonOptions options, Backends backends, std::shared_ptr<const Runtime> runtime);
    ~Daemon();

    /// Runs until SIGTERM/SIGINT; returns the process exit code.
    int run();

    /// The sessions' view of the daemon (used by callbacks.cpp).
    const SessionServices& services() const noexcept { return services_; }
    /// Re-reads the config file; on error keeps the current config. Returns success.
    bool reload();

  private:
    util::Result<void> open_listener();
    /// milter_engine: native - binds the listener of milter/native instead of libmilter's.
    util::Result<void> open_native_listener();
    /// Runs the configured engine until it is stopped; the exit status of its loop.
    int serve_milter();
    util::Result<void> drop_privileges();
    util::Result<void> start_store();
    void stop_gracefully();

    DaemonOptions options_;
    std::atomic<std::shared_ptr<const Runtime>> runtime_;
    Backends backends_;
    std::shared_ptr<store::Store> store_;
    std::unique_ptr<store::EventRecorder> recorder_;
    std::unique_ptr<ControlServer> control_;
    util::SystemClock clock_;
    std::atomic<int> messages_in_flight_{0};
    std::atomic<bool> draining_{false};
    SessionServices services_;
    std::string listen_;
    std::unique_ptr<native::Server> native_;  ///< set when milter_engine is native
};

/// The daemon that libmilter callbacks reach (libmilter has no per-filter user data).
Daemon* current_daemon() noexcept;

}  // namespace mailwarden::milter
