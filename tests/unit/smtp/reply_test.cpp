#include "smtp/reply.hpp"

#include <gtest/gtest.h>

#include "smtp/address.hpp"
#include "smtp/enhanced_status.hpp"
#include "support/matchers.hpp"

namespace mailwarden::smtp {
namespace {

using mailwarden::testing::HasError;
using mailwarden::testing::IsOk;

TEST(EnhancedStatus, ValidatesTheGrammarExactly) {
    struct Case {
        const char* input;
        std::size_t want;
    };
    const Case cases[] = {
        {"5.7.1", 5},     {"4.4.7 text", 5}, {"2.0.0", 5},    {"5.7.26", 6},
        {"5.123.456", 9}, {"3.1.1", 0},      {"5.1", 0},      {"5.1.", 0},
        {"5.1234.1", 0},  {"5.1.1.1", 0},    {"55.1.1", 0},   {"", 0},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.input);
        EXPECT_EQ(enhanced_status_length(c.input), c.want);
    }
    EXPECT_EQ(parse_enhanced_status("5.7.26"), (EnhancedStatus{5, 7, 26}));
    EXPECT_FALSE(parse_enhanced_status("5.7.26 "));
    EXPECT_FALSE(parse_enhanced_status(""));
}

TEST(Reply, BuildsMultiLineWireForm) {
    auto reply = make_reply(550, "5.7.1", {"first", "second"});
    ASSERT_THAT(reply, IsOk());
    EXPECT_EQ(reply->to_wire(), "550-5.7.1 first\r\n550 5.7.1 second\r\n");
    EXPECT_EQ(reply->summary(), "550 5.7.1 first / second");
}

TEST(Reply, RejectsInconsistentCodes) {
    EXPECT_THAT(make_reply(450, "5.7.1", {"x"}), HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(make_reply(250, "2.0.0", {"x"}), HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(make_reply(550, "5.7", {"x"}), HasError(util::ErrorCode::InvalidInput));
}

TEST(Reply, CleansControlAndEightBitBytesAndWrapsLongLines) {
    auto reply = make_reply(451, "4.7.1", {"bad\r\ninjected\x01 caf\xc3\xa9", std::string(1000, 'a') + " b"});
    ASSERT_THAT(reply, IsOk());
    EXPECT_EQ(reply->lines[0], "bad  injected  caf??");
    ASSERT_GE(reply->lines.size(), 3u);
    for (const auto& line : reply->lines) {
        EXPECT_LE(line.size(), kMaxReplyLineLength);
    }
    auto empty = make_reply(550, "", {});
    ASSERT_THAT(empty, IsOk());
    EXPECT_EQ(empty->to_wire(), "550 Message rejected\r\n");
}

TEST(Address, ParsesTheFormsMtasSend) {
    struct Case {
        const char* input;
        const char* local;
        const char* domain;
    };
    const Case cases[] = {
        {"<User@Example.COM>", "User", "example.com"},
        {"alice@local.test", "alice", "local.test"},
        {"", "", ""},
        {"<>", "", ""},
        {"<@relay.example:bob@example.org>", "bob", "example.org"},
        {"<\"odd@local\"@example.net.>", "\"odd@local\"", "example.net"},
        {"postmaster", "postmaster", ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.input);
        auto a = parse_envelope_address(c.input);
        ASSERT_THAT(a, IsOk());
        EXPECT_EQ(a->local_part, c.local);
        EXPECT_EQ(a->domain, c.domain);
    }
    EXPECT_TRUE(parse_envelope_address("<>")->is_null());
    EXPECT_THAT(parse_envelope_address("a\r\nb@x"), HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(parse_envelope_address(std::string(5000, 'a')),
                HasError(util::ErrorCode::InvalidInput));
}

}  // namespace
}  // namespace mailwarden::smtp
