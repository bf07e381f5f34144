// tag_list_test.cpp - RFC 6376 §3.2 tag=value lists.
#include "auth/dkim/tag_list.hpp"

#include <gtest/gtest.h>

namespace mailwarden::auth::dkim {
namespace {

TEST(DkimTagList, ParsesTagsInOrderWithFoldingWhitespace) {
    const std::string text = " v=1;\r\n\ta = rsa-sha256 ; d=example.com;\r\n b=abc\r\n def ;";
    auto list = parse_tag_list(text);
    ASSERT_TRUE(list.has_value()) << list.error();
    ASSERT_EQ(list->tags().size(), 4u);
    EXPECT_EQ(list->tags()[0].name, "v");
    EXPECT_EQ(*list->find("a"), "rsa-sha256");
    EXPECT_EQ(*list->find("d"), "example.com");
    EXPECT_EQ(*list->find("b"), "abc\r\n def");  // inner folding kept
    EXPECT_FALSE(list->find("x").has_value());
}

TEST(DkimTagList, EmptyValueIsAllowed) {
    auto list = parse_tag_list("v=DKIM1; p=");
    ASSERT_TRUE(list.has_value());
    EXPECT_EQ(*list->find("p"), "");
}

TEST(DkimTagList, TagNamesAreCaseSensitive) {
    auto list = parse_tag_list("V=1");
    ASSERT_TRUE(list.has_value());
    EXPECT_FALSE(list->find("v").has_value());
    EXPECT_TRUE(list->find("V").has_value());
}

TEST(DkimTagList, RecordsValueOffsetsForRemovingB) {
    const std::string text = "a=1; b= xyz ; c=2";
    auto list = parse_tag_list(text);
    ASSERT_TRUE(list.has_value());
    const Tag* b = list->tag("b");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(text.substr(0, b->value_begin), "a=1; b=");
    EXPECT_EQ(text.substr(b->spec_end), "; c=2");
}

TEST(DkimTagList, RejectsMalformedLists) {
    struct Case {
        const char* name;
        const char* text;
        const char* reason;
    };
    const Case cases[] = {
        {"duplicate", "a=1; a=2", "duplicate tag 'a'"},
        {"no equals", "a=1; bogus", "tag 'bogus' has no '='"},
        {"digit name", "1a=1", "invalid tag name '1a'"},
        {"empty name", "=1", "invalid tag name ''"},
        {"bad char in name", "a-b=1", "invalid tag name 'a-b'"},
        {"empty spec inside", "a=1;; b=2", "empty tag-spec between ';'"},
        {"empty", "  ", "empty tag-list"},
        {"control char", "a=x\x01y", "tag 'a' has an invalid character in its value"},
        {"truncated", "v=1; a=rsa-sha256; b", "tag 'b' has no '='"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto list = parse_tag_list(c.text);
        ASSERT_FALSE(list.has_value());
        EXPECT_EQ(list.error(), c.reason);
    }
}

TEST(DkimTagList, OneTrailingSemicolonIsAllowed) {
    EXPECT_TRUE(parse_tag_list("a=1;").has_value());
    EXPECT_TRUE(parse_tag_list("a=1; \r\n ").has_value());
}

TEST(DkimTagList, BoundsTheNumberOfTags) {
    std::string text;
    for (std::size_t i = 0; i <= kMaxTags; ++i) {
        text += "t" + std::to_string(i) + "=x;";
    }
    auto list = parse_tag_list(text);
    ASSERT_FALSE(list.has_value());
    EXPECT_EQ(list.error(), "more than 64 tags");
}

TEST(DkimTagList, StripFwsRemovesFolding) {
    EXPECT_EQ(strip_fws(" ab\r\n\tcd e "), "abcde");
}

}  // namespace
}  // namespace mailwarden::auth::dkim
