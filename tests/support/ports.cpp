// ports.cpp - bind to port 0 and read back what the kernel chose.
//
// The port is released before it is used, so another process could take it in between;
// on a test machine that is rare, and the server that loses the race fails to start with
// a clear error rather than a hang.
#include "support/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace mailwarden::testing {

namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

}  // namespace

std::uint16_t free_tcp_port() {
    static std::mutex mutex;
    static std::set<std::uint16_t> handed_out;
    std::lock_guard lock(mutex);
    for (int attempt = 0; attempt < 50; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            break;
        }
        sockaddr_in sin = loopback(0);
        socklen_t len = sizeof sin;
        std::uint16_t port = 0;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0) {
            port = ntohs(sin.sin_port);
        }
        ::close(fd);
        if (port != 0 && handed_out.insert(port).second) {
            return port;
        }
    }
    throw std::runtime_error("no free loopback TCP port");
}

bool port_accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in sin = loopback(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0;
    ::close(fd);
    return ok;
}

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (port_accepts(port)) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return port_accepts(port);
}

}  // namespace mailwarden::testing
