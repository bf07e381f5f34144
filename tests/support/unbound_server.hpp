// unbound_server.hpp - a private `unbound` DNS server on a free loopback port, for tests.
//
// Writes a config with the given local-data records into a fresh temporary directory,
// starts /usr/sbin/unbound in the foreground, waits until it accepts TCP connections and
// stops it (SIGTERM, then SIGKILL) on stop() or destruction. Logs every query it receives
// so tests can count what reached the server. Not thread-safe; one owner.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mailwarden::testing {

/// A running unbound serving static local zones and local-data records.
class UnboundServer {
  public:
    /// Starts the server with `zones` as static local zones ("test.example.",
    /// "2.0.192.in-addr.arpa."); nullopt (with `why` filled in) when unbound is missing or
    /// does not come up, so the caller can skip with a printed reason.
    static std::optional<UnboundServer> start(const std::vector<std::string>& zones,
                                              const std::vector<std::string>& local_data,
                                              std::string& why);

    UnboundServer(UnboundServer&& other) noexcept;
    UnboundServer& operator=(UnboundServer&& other) noexcept;
    UnboundServer(const UnboundServer&) = delete;
    ~UnboundServer();

    /// "127.0.0.1@PORT", the form UnboundOptions::forwarders takes.
    std::string forwarder() const;
    int port() const { return port_; }
    /// Number of queries for `name` (e.g. "multi.test.example.") the server has logged.
    int queries_for(const std::string& name) const;
    /// Stops the server now (idempotent).
    void stop();

  private:
    UnboundServer() = default;
    void release() noexcept;
    pid_t pid_ = -1;
    int port_ = 0;
    std::filesystem::path dir_;
};

/// The path of the unbound daemon, or nullopt when it is not installed.
std::optional<std::filesystem::path> unbound_binary();

/// A free loopback port (UDP and TCP both bindable at the time of the call).
int free_loopback_port();

}  // namespace mailwarden::testing
