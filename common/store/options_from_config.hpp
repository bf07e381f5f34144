// options_from_config.hpp - the store settings of a Config, in the store's own terms, so the
// daemon and mailwardenctl open the same Redis the same way.
#pragma once

#include "config/config.hpp"
#include "store/redis_pool.hpp"

namespace mailwarden::store {

/// RedisOptions from `store.redis` and the stream/counter bounds of `events`.
RedisOptions redis_options(const config::Config& config);

}  // namespace mailwarden::store
