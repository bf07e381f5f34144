// redis_server.cpp - spawning redis-server with a throw-away config, and a blocking RESP
// client with a receive timeout for PING and test inspection.
#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "support/ports.hpp"

namespace mailwarden::testing {
namespace {

using util::ErrorCode;

constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kIoTimeout = std::chrono::seconds(2);

// A connected socket that closes itself.
class Socket {
  public:
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return fd_; }

  private:
    int fd_;
};

// Buffered reader of one RESP reply.
class RespReader {
  public:
    explicit RespReader(int fd) : fd_(fd) {}

    util::Result<RespValue> read_value() {
        auto line = read_line();
        if (!line) {
            return std::unexpected(line.error());
        }
        if (line->empty()) {
            return util::fail(ErrorCode::InvalidInput, "empty RESP line");
        }
        RespValue value;
        const char tag = (*line)[0];
        const std::string rest = line->substr(1);
        switch (tag) {
            case '+':
                value.type = RespValue::Type::Status;
                value.text = rest;
                return value;
            case '-':
                value.type = RespValue::Type::Error;
                value.text = rest;
                return value;
            case ':':
                value.type = RespValue::Type::Integer;
                value.integer = std::atoll(rest.c_str());
                return value;
            case '$': {
                const long long n = std::atoll(rest.c_str());
                if (n < 0) {
                    return value;  // Nil
                }
                value.type = RespValue::Type::Bulk;
                auto data = read_exact(static_cast<std::size_t>(n) + 2);
                if (!data) {
                    return std::unexpected(data.error());
                }
                value.text = data->substr(0, static_cast<std::size_t>(n));
                return value;
            }
            case '*': {
                const long long n = std::atoll(rest.c_str());
                if (n < 0) {
                    return value;
                }
                value.type = RespValue::Type::Array;
                for (long long i = 0; i < n; ++i) {
                    auto element = read_value();
                    if (!element) {
                        return element;
                    }
                    value.elements.push_back(std::move(*element));
                }
                return value;
            }
            default:
                return util::fail(ErrorCode::InvalidInput, "bad RESP type byte");
        }
    }

  private:
    bool fill() {
        char chunk[4096];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
    util::Result<std::string> read_line() {
        while (true) {
            if (auto pos = buffer_.find("\r\n"); pos != std::string::npos) {
                std::string line = buffer_.substr(0, pos);
                buffer_.erase(0, pos + 2);
                return line;
            }
            if (!fill()) {
                return util::fail(ErrorCode::Unavailable, "redis closed or timed out");
            }
        }
    }
    util::Result<std::string> read_exact(std::size_t n) {
        while (buffer_.size() < n) {
            if (!fill()) {
                return util::fail(ErrorCode::Unavailable, "redis closed or timed out");
            }
        }
        std::string out = buffer_.substr(0, n);
        buffer_.erase(0, n);
        return out;
    }

    int fd_;
    std::string buffer_;
};

}  // namespace

std::optional<std::filesystem::path> find_redis_server() {
    std::vector<std::filesystem::path> dirs;
    if (const char* path = std::getenv("PATH"); path != nullptr) {
        std::string_view rest = path;
        while (!rest.empty()) {
            const auto colon = rest.find(':');
            dirs.emplace_back(rest.substr(0, colon));
            rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
        }
    }
    dirs.emplace_back("/usr/bin");
    dirs.emplace_back("/usr/sbin");
    for (const auto& dir : dirs) {
        const auto candidate = dir / "redis-server";
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return std::nullopt;
}

RedisServer::RedisServer(std::filesystem::path binary, std::uint16_t port)
    : binary_(std::move(binary)), port_(port), dir_("mw-redis") {}

RedisServer::~RedisServer() {
    stop();
}

util::Result<std::unique_ptr<RedisServer>> RedisServer::start() {
    auto binary = find_redis_server();
    if (!binary) {
        return util::fail(ErrorCode::NotFound, "redis-server is not installed");
    }
    std::unique_ptr<RedisServer> server(new RedisServer(*binary, free_tcp_port()));
    if (auto launched = server->launch(); !launched) {
        return std::unexpected(launched.error());
    }
    return server;
}

util::Result<void> RedisServer::launch() {
    ProcessOptions options;
    options.program = binary_;
    options.args = {"--port",
                    std::to_string(port_),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    dir_.path().string(),
                    "--daemonize",
                    "no",
                    "--protected-mode",
                    "no"};
    options.output = dir_ / "redis.log";
    auto process = Process::spawn(std::move(options));
    if (!process) {
        return std::unexpected(process.error());
    }
    process_.emplace(std::move(*process));
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_->running()) {
            return util::fail(ErrorCode::Unavailable,
                              fmt::format("redis-server exited: {}", process_->output()));
        }
        auto pong = command({"PING"});
        if (pong && pong->type == RespValue::Type::Status && pong->text == "PONG") {
            return {};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return util::fail(
        ErrorCode::Timeout,
        fmt::format("redis-server on port {} did not answer PING: {}", port_, process_->output()));
}

void RedisServer::stop() {
    if (process_) {
        (void)process_->signal(SIGCONT);  // a paused server could not act on SIGTERM
        process_->stop(kStopGrace);
        process_.reset();
    }
}

void RedisServer::kill() {
    if (process_) {
        (void)process_->signal(SIGKILL);
        process_->wait(kStopGrace);
        process_.reset();
    }
}

void RedisServer::pause() {
    if (process_) {
        (void)process_->signal(SIGSTOP);
    }
}

void RedisServer::resume() {
    if (process_) {
        (void)process_->signal(SIGCONT);
    }
}

util::Result<void> RedisServer::restart() {
    stop();
    return launch();
}

util::Result<RespValue> RedisServer::command(const std::vector<std::string>& argv) const {
    Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (socket.fd() < 0) {
        return util::fail(ErrorCode::Unavailable, std::strerror(errno));
    }
    timeval tv{};
    tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kIoTimeout).count();
    ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port_);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(socket.fd(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
        return util::fail(ErrorCode::Unavailable,
                          fmt::format("connect 127.0.0.1:{}: {}", port_, std::strerror(errno)));
    }
    std::string request;
    const auto encode = [&request](const std::vector<std::string>& args) {
        request += fmt::format("*{}\r\n", args.size());
        for (const auto& arg : args) {
            request += fmt::format("${}\r\n", arg.size());
            request += arg;
            request += "\r\n";
        }
    };
    if (!password_.empty()) {
        encode({"AUTH", password_});
    }
    encode(argv);
    std::string_view rest = request;
    while (!rest.empty()) {
        const ssize_t n = ::send(socket.fd(), rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return util::fail(ErrorCode::Unavailable, "send to redis failed");
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    RespReader reader(socket.fd());
    if (!password_.empty()) {
        auto auth = reader.read_value();
        if (!auth || auth->type == RespValue::Type::Error) {
            return util::fail(ErrorCode::Unavailable, "AUTH refused");
        }
    }
    return reader.read_value();
}

}  // namespace mailwarden::testing
