// server.hpp - the native engine's listener: binds the `listen` socket (inet:PORT@HOST,
// inet6:PORT@HOST, inet:PORT, unix:/path), accepts MTA connections and serves each on its
// own thread (small stack, blocking buffered I/O; checks may block on DNS or Redis), with a
// bound on the number of connections. stop() closes the listener and ends the connections
// still open; the daemon calls it once the messages in flight are done.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "milter/session.hpp"
#include "util/error.hpp"

namespace mailwarden::milter::native {

struct ServerOptions {
    std::chrono::milliseconds timeout{300'000};  ///< each read and write (milter_timeout)
    std::size_t max_connections = 1024;          ///< more wait in the listen backlog
    std::size_t stack_size = 2 * 1024 * 1024;    ///< per connection thread
};

class Server {
  public:
    /// Binds and listens (as root, before privileges are dropped). A unix socket left by an
    /// earlier run is replaced. TCP sockets get TCP_NODELAY (the replies are small).
    static util::Result<std::unique_ptr<Server>> open(const std::string& listen);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Accepts and serves until stop(); returns 0, or 1 when accepting failed for good.
    int serve(const SessionServices& services, ServerOptions options);
    /// Closes the listener and shuts down every open connection (their threads then end);
    /// safe from any thread, more than once.
    void stop();
    /// Waits up to `budget` for the connection threads to end; true when they all did.
    bool wait_for_connections(std::chrono::milliseconds budget);
    /// Connections being served now.
    std::size_t connections() const;

  private:
    struct Shared {
        mutable std::mutex mutex;
        std::condition_variable changed;
        std::set<int> fds;  ///< sockets of the connections being served
        bool stopping = false;
    };

    Server(int listen_fd, int wake_read, int wake_write)
        : listen_fd_(listen_fd),
          wake_read_(wake_read),
          wake_write_(wake_write),
          shared_(std::make_shared<Shared>()) {}
    bool start_connection(int fd, const SessionServices& services, const ServerOptions& options);

    int listen_fd_;
    int wake_read_;  ///< stop() writes to wake_write_ to end the wait for connections
    int wake_write_;
    std::shared_ptr<Shared> shared_;  ///< shared with the connection threads
};

}  // namespace mailwarden::milter::native
