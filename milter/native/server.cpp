#include "milter/native/server.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "milter/native/connection.hpp"

namespace mailwarden::milter::native {

namespace {

constexpr int kBacklog = 256;

util::Result<void> os_error(std::string_view what) {
    return util::fail(util::ErrorCode::Unavailable,
                      fmt::format("{}: {}", what, std::strerror(errno)));
}

util::Result<int> listen_unix(const std::string& path) {
    sockaddr_un address{};
    if (path.size() >= sizeof address.sun_path) {
        return util::fail(util::ErrorCode::Config,
                          fmt::format("unix socket path too long: {}", path));
    }
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    // A socket left by an earlier run is replaced, anything else is not touched.
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
        (void)unlink(path.c_str());
    }
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::unexpected(os_error("socket").error());
    }
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd, kBacklog) != 0) {
        auto err = os_error(fmt::format("cannot listen on unix:{}", path));
        ::close(fd);
        return std::unexpected(err.error());
    }
    return fd;
}

util::Result<int> listen_inet(bool v6, const std::string& port, const std::string& host) {
    addrinfo hints{};
    hints.ai_family = v6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        return util::fail(
            util::ErrorCode::Config,
            fmt::format("cannot resolve listen address '{}': {}", host, gai_strerror(rc)));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
    const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::unexpected(os_error("socket").error());
    }
    const int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, kBacklog) != 0) {
        auto err = os_error(fmt::format("cannot listen on {}:{}@{}", v6 ? "inet6" : "inet", port,
                                        host.empty() ? "*" : host));
        ::close(fd);
        return std::unexpected(err.error());
    }
    return fd;
}

// What a connection thread owns; freed by the thread.
struct ConnectionTask {
    int fd;
    const SessionServices* services;
    std::chrono::milliseconds timeout;
    std::shared_ptr<void> shared;  // keeps the server's Shared alive
    void (*done)(void* shared, int fd);
};

void* run_connection(void* arg) {
    std::unique_ptr<ConnectionTask> task(static_cast<ConnectionTask*>(arg));
    {
        Connection connection(task->fd, *task->services, task->timeout);
        connection.run();
        task->done(task->shared.get(), task->fd);  // before close: the fd is not reused yet
    }
    return nullptr;
}

}  // namespace

util::Result<std::unique_ptr<Server>> Server::open(const std::string& listen) {
    util::Result<int> fd = util::fail(util::ErrorCode::Config, "unknown socket");
    if (listen.starts_with("unix:")) {
        fd = listen_unix(listen.substr(5));
    } else if (listen.starts_with("inet:") || listen.starts_with("inet6:")) {
        const bool v6 = listen.starts_with("inet6:");
        const std::string rest = listen.substr(v6 ? 6 : 5);
        const auto at = rest.find('@');
        fd = listen_inet(v6, rest.substr(0, at),
                         at == std::string::npos ? std::string() : rest.substr(at + 1));
    } else {
        return util::fail(util::ErrorCode::Config,
                          fmt::format("'{}' is not a socket the native engine serves", listen));
    }
    if (!fd) {
        return std::unexpected(fd.error());
    }
    // The listener does not block (poll says when); accepted sockets do, with timeouts.
    (void)fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
    int wake[2];
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        auto err = os_error("pipe");
        ::close(*fd);
        return std::unexpected(err.error());
    }
    return std::unique_ptr<Server>(new Server(*fd, wake[0], wake[1]));
}

Server::~Server() {
    stop();
    for (const int fd : {listen_fd_, wake_read_, wake_write_}) {
        ::close(fd);
    }
}

std::size_t Server::connections() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->fds.size();
}

bool Server::start_connection(int fd, const SessionServices& services,
                              const ServerOptions& options) {
    auto task = std::make_unique<ConnectionTask>();
    task->fd = fd;
    task->services = &services;
    task->timeout = options.timeout;
    task->shared = shared_;
    task->done = [](void* p, int done_fd) {
        auto* shared = static_cast<Shared*>(p);
        std::lock_guard lock(shared->mutex);
        shared->fds.erase(done_fd);
        shared->changed.notify_all();
    };
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, options.stack_size);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    const int rc = pthread_create(&thread, &attr, run_connection, task.get());
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        spdlog::error("cannot start a thread for a milter connection: {}", std::strerror(rc));
        return false;
    }
    (void)task.release();  // owned by the thread now
    return true;
}

int Server::serve(const SessionServices& services, ServerOptions options) {
    while (true) {
        {
            // Bounded: at the limit, wait for a connection to end (new ones queue in the
            // listen backlog, as with a busy libmilter).
            std::unique_lock lock(shared_->mutex);
            shared_->changed.wait(lock, [&] {
                return shared_->stopping || shared_->fds.size() < options.max_connections;
            });
            if (shared_->stopping) {
                return 0;
            }
        }
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            spdlog::error("poll on the milter socket failed: {}", std::strerror(errno));
            return 1;
        }
        if ((fds[1].revents & POLLIN) != 0 || (fds[0].revents & POLLIN) == 0) {
            continue;  // stopping (checked above), or nothing yet
        }
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO || errno == EAGAIN) {
                continue;
            }
            {
                std::lock_guard lock(shared_->mutex);
                if (shared_->stopping) {
                    return 0;
                }
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                spdlog::warn("accept: {}; retrying in 100 ms", std::strerror(errno));
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            spdlog::error("accept on the milter socket failed: {}", std::strerror(errno));
            return 1;
        }
        const int on = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // fails on unix: fine
        {
            std::lock_guard lock(shared_->mutex);
            if (shared_->stopping) {
                ::close(fd);
                return 0;
            }
            shared_->fds.insert(fd);
        }
        if (!start_connection(fd, services, options)) {
            std::lock_guard lock(shared_->mutex);
            shared_->fds.erase(fd);
            ::close(fd);
        }
    }
}

void Server::stop() {
    std::lock_guard lock(shared_->mutex);
    if (!shared_->stopping) {
        shared_->stopping = true;
        // Wakes the accept loop and every blocked read.
        const char byte = 1;
        (void)!write(wake_write_, &byte, 1);
        for (const int fd : shared_->fds) {
            (void)shutdown(fd, SHUT_RDWR);
        }
    }
    shared_->changed.notify_all();
}

bool Server::wait_for_connections(std::chrono::milliseconds budget) {
    std::unique_lock lock(shared_->mutex);
    return shared_->changed.wait_for(lock, budget, [&] { return shared_->fds.empty(); });
}

}  // namespace mailwarden::milter::native
