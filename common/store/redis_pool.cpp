// redis_pool.cpp - hiredis connections: connect with timeouts, AUTH/SELECT, pipelined
// argv commands, a bounded borrow/return pool, and the EVALSHA script registry.
//
// Commands are always sent with redisAppendCommandArgv (binary-safe, no format strings).
// An idle connection is checked with poll() before it is lent out: a connection whose
// server closed it (Redis restarted) is readable at EOF and is replaced before any
// command is written, so a non-idempotent command is never sent on a dead socket.
#include "store/redis_pool.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "util/unique_handle.hpp"

namespace mailwarden::store {

using util::ErrorCode;

void ReplyDeleter::operator()(redisReply* reply) const noexcept {
    if (reply != nullptr) {
        freeReplyObject(reply);
    }
}

std::string_view reply_error(const redisReply& reply) {
    if (reply.type != REDIS_REPLY_ERROR || reply.str == nullptr) {
        return {};
    }
    return {reply.str, reply.len};
}

struct RedisPool::Connection {
    util::UniqueHandle<redisContext, redisFree> context;
};

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

// True when the server has closed the connection (or sent something unsolicited).
bool looks_closed(const redisContext& context) {
    pollfd p{context.fd, POLLIN, 0};
    const int n = ::poll(&p, 1, 0);
    return n != 0;
}

std::string where(const RedisOptions& o) {
    return o.unix_socket.empty() ? fmt::format("{}:{}", o.host, o.port) : o.unix_socket;
}

}  // namespace

RedisPool::RedisPool(RedisOptions options) : options_(std::move(options)) {
    if (options_.pool_size == 0) {
        options_.pool_size = 1;
    }
    // XXX: hiredis writes with write(2), so a server that vanished mid-command would raise
    // SIGPIPE and kill the daemon. libmilter ignores SIGPIPE too; do the same when nobody
    // has chosen a disposition yet, so mailwardenctl and tests are safe as well.
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
        ::signal(SIGPIPE, SIG_IGN);
    }
}

RedisPool::~RedisPool() = default;

std::size_t RedisPool::open_connections() const {
    std::lock_guard lock(mutex_);
    return open_;
}

util::Result<RedisPool::ConnectionPtr> RedisPool::connect() {
    const timeval connect_tv = to_timeval(options_.connect_timeout);
    redisContext* raw =
        options_.unix_socket.empty()
            ? redisConnectWithTimeout(options_.host.c_str(), options_.port, connect_tv)
            : redisConnectUnixWithTimeout(options_.unix_socket.c_str(), connect_tv);
    auto connection = std::make_unique<Connection>();
    connection->context.reset(raw);
    if (raw == nullptr) {
        return util::fail(ErrorCode::Unavailable,
                          fmt::format("redis {}: cannot allocate a context", where(options_)));
    }
    if (raw->err != 0) {
        return util::fail(ErrorCode::Unavailable,
                          fmt::format("redis {}: connect: {}", where(options_), raw->errstr));
    }
    if (redisSetTimeout(raw, to_timeval(options_.command_timeout)) != REDIS_OK) {
        return util::fail(ErrorCode::Unavailable,
                          fmt::format("redis {}: cannot set timeout", where(options_)));
    }
    if (options_.unix_socket.empty()) {
        redisEnableKeepAlive(raw);
    }
    std::vector<Command> setup;
    if (!options_.password.empty()) {
        setup.push_back({"AUTH", options_.password});
    }
    if (options_.db != 0) {
        setup.push_back({"SELECT", std::to_string(options_.db)});
    }
    if (!setup.empty()) {
        auto replies = run(*connection, setup);
        if (!replies) {
            return std::unexpected(replies.error());
        }
        for (std::size_t i = 0; i < replies->size(); ++i) {
            if (auto err = reply_error(*(*replies)[i]); !err.empty()) {
                return util::fail(
                    ErrorCode::Unavailable,
                    fmt::format("redis {}: {} refused: {}", where(options_), setup[i][0], err));
            }
        }
    }
    return connection;
}

util::Result<RedisPool::ConnectionPtr> RedisPool::acquire() {
    {
        std::unique_lock lock(mutex_);
        const auto deadline = std::chrono::steady_clock::now() + options_.command_timeout;
        while (true) {
            while (!idle_.empty()) {
                ConnectionPtr connection = std::move(idle_.back());
                idle_.pop_back();
                if (!looks_closed(*connection->context)) {
                    return connection;
                }
                --open_;  // closed by the server: drop it and look again
            }
            if (open_ < options_.pool_size) {
                ++open_;
                break;  // connect outside the lock
            }
            if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
                open_ >= options_.pool_size) {
                return util::fail(ErrorCode::Timeout,
                                  fmt::format("redis {}: no free connection within {} ms",
                                              where(options_), options_.command_timeout.count()));
            }
        }
    }
    auto connection = connect();
    if (!connection) {
        std::lock_guard lock(mutex_);
        --open_;
        available_.notify_one();
    }
    return connection;
}

void RedisPool::release(ConnectionPtr connection, bool healthy) {
    {
        std::lock_guard lock(mutex_);
        if (healthy) {
            idle_.push_back(std::move(connection));
        } else {
            --open_;
        }
    }
    available_.notify_one();
    // an unhealthy connection is closed here, outside the lock
}

util::Result<std::vector<ReplyPtr>> RedisPool::run(Connection& connection,
                                                   std::span<const Command> commands) {
    redisContext* context = connection.context.get();
    std::vector<const char*> argv;
    std::vector<std::size_t> argv_len;
    for (const Command& command : commands) {
        argv.clear();
        argv_len.clear();
        for (const std::string& arg : command) {
            argv.push_back(arg.data());
            argv_len.push_back(arg.size());
        }
        if (redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(),
                                   argv_len.data()) != REDIS_OK) {
            return util::fail(ErrorCode::Internal,
                              fmt::format("redis {}: cannot queue a command: {}", where(options_),
                                          context->errstr));
        }
    }
    std::vector<ReplyPtr> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
        void* raw = nullptr;
        errno = 0;
        if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
            // hiredis reports a socket timeout as an I/O error from EAGAIN.
            const bool timed_out = context->err == REDIS_ERR_IO &&
                                   (errno == EAGAIN || errno == EWOULDBLOCK ||
                                    std::strcmp(context->errstr, std::strerror(EAGAIN)) == 0);
            if (timed_out) {
                return util::fail(ErrorCode::Timeout,
                                  fmt::format("redis {}: no answer within {} ms", where(options_),
                                              options_.command_timeout.count()));
            }
            return util::fail(ErrorCode::Unavailable,
                              fmt::format("redis {}: {}", where(options_),
                                          context->err != 0 ? context->errstr : "no reply"));
        }
        replies.emplace_back(static_cast<redisReply*>(raw));
    }
    return replies;
}

util::Result<std::vector<ReplyPtr>> RedisPool::execute(std::span<const Command> commands,
                                                       Retry retry) {
    const int attempts = retry == Retry::Once ? 2 : 1;
    util::Error last;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        auto connection = acquire();
        if (!connection) {
            return std::unexpected(connection.error());
        }
        auto replies = run(**connection, commands);
        if (replies) {
            release(std::move(*connection), true);
            return replies;
        }
        release(std::move(*connection), false);
        last = replies.error();
        if (last.code == ErrorCode::Timeout) {
            break;  // a slow server is not helped by asking again at once
        }
    }
    return std::unexpected(last);
}

util::Result<ReplyPtr> RedisPool::command(const Command& command, Retry retry) {
    auto replies = execute(std::span<const Command>(&command, 1), retry);
    if (!replies) {
        return std::unexpected(replies.error());
    }
    return std::move(replies->front());
}

util::Result<std::string> ScriptRegistry::load(const Script& script) {
    auto reply = pool_.command({"SCRIPT", "LOAD", std::string(script.source)}, Retry::Once);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_STRING) {
        return util::fail(
            ErrorCode::PermFailure,
            fmt::format("SCRIPT LOAD {}: {}", script.name,
                        r.type == REDIS_REPLY_ERROR ? reply_error(r) : "unexpected reply"));
    }
    std::string sha(r.str, r.len);
    std::lock_guard lock(mutex_);
    sha_by_name_[std::string(script.name)] = sha;
    return sha;
}

util::Result<ReplyPtr> ScriptRegistry::run(const Script& script, std::span<const std::string> keys,
                                           std::span<const std::string> args) {
    std::string sha;
    {
        std::lock_guard lock(mutex_);
        if (auto it = sha_by_name_.find(script.name); it != sha_by_name_.end()) {
            sha = it->second;
        }
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (sha.empty()) {
            auto loaded = load(script);
            if (!loaded) {
                return std::unexpected(loaded.error());
            }
            sha = std::move(*loaded);
        }
        Command command{"EVALSHA", sha, std::to_string(keys.size())};
        command.insert(command.end(), keys.begin(), keys.end());
        command.insert(command.end(), args.begin(), args.end());
        auto reply = pool_.command(command, Retry::Never);
        if (!reply) {
            return std::unexpected(reply.error());
        }
        const std::string_view err = reply_error(**reply);
        if (err.empty()) {
            return reply;
        }
        if (!err.starts_with("NOSCRIPT")) {
            return util::fail(ErrorCode::PermFailure,
                              fmt::format("script {}: {}", script.name, err));
        }
        sha.clear();  // the server forgot it: load again and retry once
    }
    return util::fail(ErrorCode::TempFailure,
                      fmt::format("script {}: NOSCRIPT after loading it", script.name));
}

}  // namespace mailwarden::store
