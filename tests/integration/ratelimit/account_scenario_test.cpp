// account_scenario_test.cpp - the compromised-account scenarios of
// tests/unit/policy/account_scenario.hpp on RedisAccountStore against a real redis-server:
// the same decisions as on MemoryAccountStore.
#include <gtest/gtest.h>

#include "integration/store/redis_account_backend.hpp"
#include "unit/policy/account_scenario.hpp"

namespace mailwarden::policy::account_scenario {
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, AccountScenario, store::RedisAccountBackend);
}
