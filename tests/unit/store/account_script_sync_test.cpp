// account_script_sync_test.cpp - the embedded account_update script is the .lua file, byte
// for byte (regenerate with common/store/scripts/embed.sh), and it opens with its contract.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/redis_accounts.hpp"
#include "support/paths.hpp"

namespace mailwarden::store {
namespace {

TEST(AccountUpdateScript, EmbeddedTextMatchesTheLuaFile) {
    const auto path = mailwarden::testing::source_dir() / "common/store/scripts/account_update.lua";
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << path;
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(kAccountUpdateLua, text.str())
        << "run common/store/scripts/embed.sh after editing account_update.lua";
}

TEST(AccountUpdateScript, OpensWithItsContract) {
    EXPECT_THAT(std::string(kAccountUpdateLua.substr(0, 3000)),
                ::testing::AllOf(::testing::HasSubstr("KEYS[1]"), ::testing::HasSubstr("ARGV[1]"),
                                 ::testing::HasSubstr("Returns"), ::testing::HasSubstr("Effects")));
}

}  // namespace
}  // namespace mailwarden::store
