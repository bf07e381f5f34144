#include "store/options_from_config.hpp"

namespace mailwarden::store {

RedisOptions redis_options(const config::Config& c) {
    RedisOptions o;
    o.host = c.store.redis.host;
    o.port = c.store.redis.port;
    o.unix_socket = c.store.redis.unix_socket;
    o.password = c.store.redis.password;
    o.db = c.store.redis.db;
    o.prefix = c.store.redis.prefix;
    o.connect_timeout = c.store.redis.connect_timeout;
    o.command_timeout = c.store.redis.command_timeout;
    o.pool_size = static_cast<std::size_t>(c.store.redis.pool_size);
    o.stream_maxlen = c.events.stream_max_length;
    o.sender_stream_maxlen = c.events.sender_stream_max_length;
    o.counter_ttl = std::chrono::duration_cast<std::chrono::seconds>(c.events.counter_retention);
    o.event_ttl = o.counter_ttl;
    return o;
}

}  // namespace mailwarden::store
