// redis_account_backend.hpp - the Backend of the typed account suites (account_contract.hpp,
// account_scenario.hpp) on RedisAccountStore: one redis-server per suite, a fresh key prefix
// per test.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/redis_accounts.hpp"
#include "support/redis_server.hpp"

namespace mailwarden::store {

struct RedisAccountBackend {
    static inline std::unique_ptr<mailwarden::testing::RedisServer> server;
    static inline std::string start_error;
    static inline int next_prefix = 0;
    static inline std::vector<std::shared_ptr<RedisStore>> stores;

    static void set_up_suite() {
        if (!mailwarden::testing::find_redis_server()) {
            start_error = "redis-server is not installed (apt-get install redis-server)";
            return;
        }
        auto started = mailwarden::testing::RedisServer::start();
        if (started) {
            server = std::move(*started);
        } else {
            start_error = started.error().describe();
        }
    }
    static void tear_down_suite() {
        stores.clear();
        server.reset();
    }
    std::shared_ptr<AccountStore> make() {
        if (!server) {
            ADD_FAILURE() << "redis-server did not start: " << start_error;
            return nullptr;
        }
        RedisOptions options;
        options.port = server->port();
        options.prefix = fmt::format("acct{}:", ++next_prefix);
        auto redis = std::make_shared<RedisStore>(options);
        stores.push_back(redis);
        return std::make_shared<RedisAccountStore>(*redis);
    }
};

}  // namespace mailwarden::store
