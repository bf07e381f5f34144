// script_sync_test.cpp - the embedded gcra_check script is the .lua file, byte for byte
// (regenerate with common/store/scripts/embed.sh), and it opens with its contract.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/redis_buckets.hpp"
#include "support/paths.hpp"

namespace mailwarden::store {
namespace {

TEST(GcraScript, EmbeddedTextMatchesTheLuaFile) {
    const auto path = mailwarden::testing::source_dir() / "common/store/scripts/gcra_check.lua";
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << path;
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(kGcraCheckLua, text.str())
        << "run common/store/scripts/embed.sh after editing gcra_check.lua";
}

TEST(GcraScript, OpensWithItsContract) {
    EXPECT_THAT(std::string(kGcraCheckLua.substr(0, 2000)),
                ::testing::AllOf(::testing::HasSubstr("KEYS[i]"), ::testing::HasSubstr("ARGV[1]"),
                                 ::testing::HasSubstr("Returns"), ::testing::HasSubstr("Effects")));
}

}  // namespace
}  // namespace mailwarden::store
