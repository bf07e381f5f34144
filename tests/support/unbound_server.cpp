// unbound_server.cpp - start and stop a private unbound for integration tests.
#include "support/unbound_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace mailwarden::testing {

namespace {

bool bindable(int type, int port) {
    const int fd = ::socket(AF_INET, type, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

bool accepts_tcp(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

std::optional<std::filesystem::path> unbound_binary() {
    for (const char* candidate : {"/usr/sbin/unbound", "/usr/local/sbin/unbound"}) {
        if (::access(candidate, X_OK) == 0) {
            return std::filesystem::path(candidate);
        }
    }
    return std::nullopt;
}

int free_loopback_port() {
    for (int attempt = 0; attempt < 50; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0) {
            return 0;
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        int port = 0;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
            port = ntohs(addr.sin_port);
        }
        ::close(fd);
        if (port != 0 && bindable(SOCK_STREAM, port)) {
            return port;
        }
    }
    return 0;
}

std::optional<UnboundServer> UnboundServer::start(const std::vector<std::string>& zones,
                                                  const std::vector<std::string>& local_data,
                                                  std::string& why) {
    const auto binary = unbound_binary();
    if (!binary) {
        why = "the unbound daemon is not installed (apt-get install unbound)";
        return std::nullopt;
    }
    char pattern[] = "/tmp/mw-unbound-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
        why = "mkdtemp failed";
        return std::nullopt;
    }
    UnboundServer server;
    server.dir_ = pattern;
    for (int attempt = 0; attempt < 3; ++attempt) {
        server.port_ = free_loopback_port();
        std::ostringstream conf;
        conf << "server:\n"
             << "  interface: 127.0.0.1\n"
             << "  port: " << server.port_ << "\n"
             << "  do-ip6: no\n  do-daemonize: no\n  use-syslog: no\n"
             << "  username: \"\"\n  chroot: \"\"\n  pidfile: \"\"\n"
             << "  directory: \"" << server.dir_.string() << "\"\n"
             << "  logfile: \"" << (server.dir_ / "unbound.log").string() << "\"\n"
             << "  log-queries: yes\n  verbosity: 1\n"
             << "  access-control: 127.0.0.0/8 allow\n"
             << "  module-config: \"iterator\"\n"
             << "  num-threads: 1\n";
        for (const auto& zone : zones) {
            conf << "  local-zone: \"" << zone << "\" static\n";
        }
        for (const auto& rr : local_data) {
            conf << "  local-data: '" << rr << "'\n";
        }
        conf << "remote-control:\n  control-enable: no\n";
        const auto conf_path = server.dir_ / "unbound.conf";
        std::ofstream(conf_path) << conf.str();
        const pid_t pid = ::fork();
        if (pid < 0) {
            why = "fork failed";
            return std::nullopt;
        }
        if (pid == 0) {
            const std::string err = (server.dir_ / "stderr.log").string();
            if (FILE* f = std::freopen(err.c_str(), "w", stderr); f == nullptr) {
                ::_exit(126);
            }
            ::execl(binary->c_str(), "unbound", "-d", "-c", conf_path.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        server.pid_ = pid;
        for (int i = 0; i < 100; ++i) {
            if (accepts_tcp(server.port_)) {
                return server;
            }
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                server.pid_ = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        server.stop();
    }
    std::ifstream err(server.dir_ / "stderr.log");
    std::ostringstream text;
    text << err.rdbuf();
    why = fmt::format("unbound did not start: {}", text.str());
    return std::nullopt;
}

UnboundServer::UnboundServer(UnboundServer&& other) noexcept
    : pid_(other.pid_), port_(other.port_), dir_(std::move(other.dir_)) {
    other.pid_ = -1;
    other.dir_.clear();
}

UnboundServer& UnboundServer::operator=(UnboundServer&& other) noexcept {
    if (this != &other) {
        release();
        pid_ = other.pid_;
        port_ = other.port_;
        dir_ = std::move(other.dir_);
        other.pid_ = -1;
        other.dir_.clear();
    }
    return *this;
}

UnboundServer::~UnboundServer() {
    release();
}

void UnboundServer::release() noexcept {
    stop();
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        dir_.clear();
    }
}

std::string UnboundServer::forwarder() const {
    return fmt::format("127.0.0.1@{}", port_);
}

int UnboundServer::queries_for(const std::string& name) const {
    std::ifstream log(dir_ / "unbound.log");
    std::string line;
    int count = 0;
    while (std::getline(log, line)) {
        if (line.find(" " + name + " ") != std::string::npos) {
            ++count;
        }
    }
    return count;
}

void UnboundServer::stop() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

}  // namespace mailwarden::testing
