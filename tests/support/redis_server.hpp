// redis_server.hpp - a real redis-server owned by a test: a free loopback port, no
// persistence, a private temporary directory; stopped (SIGTERM, bounded wait, SIGKILL) by
// the destructor. Tests can kill -9 it and restart it on the same port.
//
// A tiny RESP client (command()) lets tests look at keys without hiredis. Every wait is
// bounded. When redis-server is not installed, find_redis_server() says so and the test
// skips with that reason (MW_START_REDIS_OR_SKIP).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

namespace mailwarden::testing {

/// One decoded RESP reply.
struct RespValue {
    enum class Type { Status, Error, Integer, Bulk, Nil, Array };
    Type type = Type::Nil;
    std::string text;  ///< Status, Error, Bulk
    long long integer = 0;
    std::vector<RespValue> elements;  ///< Array
};

/// redis-server from $PATH (or /usr/bin), nullopt when it is not installed.
std::optional<std::filesystem::path> find_redis_server();

/// A running redis-server on 127.0.0.1.
class RedisServer {
  public:
    /// Starts redis-server and waits (bounded) until it answers PING.
    static util::Result<std::unique_ptr<RedisServer>> start();
    ~RedisServer();

    std::uint16_t port() const { return port_; }
    /// SIGTERM, bounded wait, then SIGKILL.
    void stop();
    /// SIGKILL, as a crash would.
    void kill();
    /// Starts it again on the same port (after stop() or kill()), waiting for PING.
    util::Result<void> restart();
    /// SIGSTOP / SIGCONT: the server keeps its socket but stops answering (timeouts).
    void pause();
    void resume();
    /// Password that command() sends with AUTH first (after CONFIG SET requirepass).
    void set_password(std::string password) { password_ = std::move(password); }

    /// Sends one command (each argv element a bulk string) on a fresh connection.
    util::Result<RespValue> command(const std::vector<std::string>& argv) const;

  private:
    RedisServer(std::filesystem::path binary, std::uint16_t port);
    util::Result<void> launch();

    std::filesystem::path binary_;
    std::uint16_t port_;
    TempDir dir_;
    std::optional<Process> process_;
    std::string password_;
};

}  // namespace mailwarden::testing

/// In a test or SetUp: starts a RedisServer into `var` (a std::unique_ptr<RedisServer>),
/// skipping when redis-server is not installed and failing when it will not start.
#define MW_START_REDIS_OR_SKIP(var)                                                         \
    do {                                                                                    \
        if (!::mailwarden::testing::find_redis_server()) {                                  \
            GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)"; \
        }                                                                                   \
        auto started_ = ::mailwarden::testing::RedisServer::start();                        \
        ASSERT_TRUE(started_.has_value()) << started_.error().describe();                   \
        var = std::move(*started_);                                                         \
    } while (false)
