// redis_store.hpp - the production Store: events, counters and (later) rate-limit state
// in Redis, shared by a fleet of MTAs (DESIGN.md "Redis data model").
//
// Connections come from a RedisPool (connect and command timeouts, reconnect); an append
// is one pipelined MULTI/EXEC round trip. Failures are values (Unavailable, Timeout,
// PermFailure for a server-side error); nothing throws. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>

#include "store/keys.hpp"
#include "store/redis_pool.hpp"
#include "store/store.hpp"

namespace mailwarden::store {

/// Store on a Redis server. Construction does not connect; the first call does.
class RedisStore final : public Store {
  public:
    explicit RedisStore(RedisOptions options);
    ~RedisStore() override;

    std::string_view kind() const override { return "redis"; }
    /// PING; Unavailable or Timeout when Redis does not answer PONG.
    util::Result<void> ping() override;
    /// One round trip: MULTI, per event `XADD mw:events MAXLEN ~ stream_maxlen`, `HINCRBY
    /// mw:codes:{hour} counter_key 1` and, with a sender, `XADD mw:sender:{addr} MAXLEN ~
    /// sender_stream_maxlen`; for an outgoing failure also `HINCRBY mw:fail:count:{dim}:{hour}`
    /// per dimension and `LPUSH`+`LTRIM` of the sender's, login's and recipient domain's
    /// `mw:fail:recent:` lists; then EXPIRE on every key touched; EXEC. Nothing is applied
    /// when the connection breaks before EXEC. A failed write to a secondary key (sender
    /// stream, counter) is logged, not returned, so a retry never duplicates events.
    util::Result<void> append_events(std::span<const Event> events) override;
    /// XREVRANGE in pages from the newest entry back to `since` (less a clock-skew
    /// allowance, since stream ids are arrival times) until `limit` events match. With a
    /// non-empty sender filter only that sender's capped stream is read. Event::id is the stream
    /// id.
    util::Result<std::vector<Event>> query_events(const EventQuery& query) override;
    /// HGETALL of that hour's counter hash.
    util::Result<CodeCounts> code_counts(util::SystemTime hour) override;
    /// HGETALL of `mw:fail:count:{dimension}:{hour}`.
    util::Result<FailureCounts> failure_counts(FailureDimension dimension,
                                               util::SystemTime hour) override;
    /// LRANGE of `mw:fail:recent:{owner}:{who}`.
    util::Result<std::vector<Event>> recent_failures(FailureOwner owner, std::string_view who,
                                                     std::size_t limit) override;

    /// Runs a Lua script by SHA (see ScriptRegistry::run); keys must come from keys().
    util::Result<ReplyPtr> run_script(const Script& script, std::span<const std::string> keys,
                                      std::span<const std::string> args);

    const Keys& keys() const { return keys_; }
    RedisPool& pool() { return *pool_; }

  private:
    void add_failure_commands(const Event& event, std::vector<Command>& commands,
                              std::vector<bool>& is_primary, std::set<std::string>& counter_keys,
                              std::set<std::string>& list_keys) const;
    util::Result<std::map<std::string, std::int64_t>> hash_counts(const std::string& key);

    RedisOptions options_;
    Keys keys_;
    std::unique_ptr<RedisPool> pool_;
    std::unique_ptr<ScriptRegistry> scripts_;
};

}  // namespace mailwarden::store
