// redis_pool.hpp - Redis connection options, a bounded pool of hiredis connections safe
// for libmilter's thread per connection, and the registry of Lua scripts run by EVALSHA.
//
// A borrower waits at most command_timeout for a free connection; connecting is bounded
// by connect_timeout and every command by command_timeout. A connection that failed
// (I/O error, timeout, protocol error) is closed, never returned; the next borrower opens
// a fresh one (AUTH and SELECT on connect). Failures are values: Unavailable when Redis
// cannot be reached, Timeout when it did not answer. hiredis stays in store/redis_*.cpp.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/keys.hpp"
#include "util/error.hpp"

struct redisContext;
struct redisReply;

namespace mailwarden::store {

/// Where Redis is and how mailwarden uses it.
struct RedisOptions {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string unix_socket;  ///< when non-empty, used instead of host and port
    std::string password;     ///< AUTH on connect when non-empty
    int db = 0;               ///< SELECT on connect when non-zero
    std::string prefix = std::string(kDefaultKeyPrefix);
    std::chrono::milliseconds connect_timeout{500};
    std::chrono::milliseconds command_timeout{500};    ///< also the longest wait for a connection
    std::size_t pool_size = 8;                         ///< most connections open at once
    std::size_t stream_maxlen = 100'000;               ///< `XADD mw:events MAXLEN ~`
    std::size_t sender_stream_maxlen = 100;            ///< `XADD mw:sender:{addr} MAXLEN ~`
    std::chrono::seconds counter_ttl{35 * 24 * 3600};  ///< EXPIRE of `mw:codes:{hour}`
    /// EXPIRE of the event streams, refreshed on every append (so idle senders' streams go).
    std::chrono::seconds event_ttl{35 * 24 * 3600};
};

/// Frees a hiredis reply.
struct ReplyDeleter {
    void operator()(redisReply* reply) const noexcept;
};
/// An owned hiredis reply.
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

/// One Redis command as its argv; every element is sent as one bulk string.
using Command = std::vector<std::string>;

/// Whether a command may be sent again after its connection broke.
enum class Retry {
    Never,  ///< not idempotent (XADD, HINCRBY, EVALSHA): a broken connection is an error
    Once,   ///< idempotent (reads, PING): retried once on a fresh connection
};

/// A bounded pool of connections to one Redis server. Thread-safe.
class RedisPool {
  public:
    explicit RedisPool(RedisOptions options);
    ~RedisPool();
    RedisPool(const RedisPool&) = delete;
    RedisPool& operator=(const RedisPool&) = delete;

    /// Sends `commands` on one connection in one write and reads every reply (one round
    /// trip). Error replies are returned as replies, for the caller to judge; a connection
    /// or timeout failure is an Error and the connection is dropped.
    util::Result<std::vector<ReplyPtr>> execute(std::span<const Command> commands, Retry retry);
    /// One command; see execute.
    util::Result<ReplyPtr> command(const Command& command, Retry retry);

    /// Connections open now (idle and borrowed), for tests and `status`.
    std::size_t open_connections() const;
    const RedisOptions& options() const { return options_; }

  private:
    struct Connection;
    using ConnectionPtr = std::unique_ptr<Connection>;

    util::Result<ConnectionPtr> acquire();
    void release(ConnectionPtr connection, bool healthy);
    util::Result<ConnectionPtr> connect();
    util::Result<std::vector<ReplyPtr>> run(Connection& connection,
                                            std::span<const Command> commands);

    RedisOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable available_;
    std::vector<ConnectionPtr> idle_;
    std::size_t open_ = 0;
};

/// A Lua script run with EVALSHA. The source opens with its contract (KEYS, ARGV, return
/// value). Define scripts as long-lived constants; `name` identifies one in the registry.
struct Script {
    std::string_view name;
    std::string_view source;
};

/// Loads each script once (SCRIPT LOAD) and runs it by SHA; after NOSCRIPT (Redis
/// restarted or flushed its script cache) it loads again and retries once. Thread-safe.
class ScriptRegistry {
  public:
    explicit ScriptRegistry(RedisPool& pool) : pool_(pool) {}

    /// EVALSHA with `keys` (build them with Keys) and `args`. The reply of the script, or
    /// PermFailure when the script raised an error, Unavailable/Timeout as for commands.
    /// Never retried after a broken connection: scripts are not assumed idempotent.
    util::Result<ReplyPtr> run(const Script& script, std::span<const std::string> keys,
                               std::span<const std::string> args);

  private:
    util::Result<std::string> load(const Script& script);

    RedisPool& pool_;
    std::mutex mutex_;
    std::map<std::string, std::string, std::less<>> sha_by_name_;
};

/// The text of an error reply ("NOSCRIPT ...", "WRONGTYPE ..."), or "" when `reply` is not
/// an error.
std::string_view reply_error(const redisReply& reply);

}  // namespace mailwarden::store
