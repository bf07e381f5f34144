// keys_test.cpp - key names, the hour stamp and the collision-free key-part encoding.
#include "store/keys.hpp"

#include <set>

#include <gtest/gtest.h>

namespace mailwarden::store {
namespace {

util::SystemTime at_s(std::int64_t s) {
    return util::SystemTime{std::chrono::seconds{s}};
}

TEST(Keys, FollowTheDataModelWithTheConfiguredPrefix) {
    const Keys keys;
    EXPECT_EQ(keys.events(), "mw:events");
    // 2026-11-23T16:59:59Z
    EXPECT_EQ(keys.codes(at_s(1'795'453'199)), "mw:codes:2026112316");
    EXPECT_EQ(keys.sender("Alice@Example.ORG"), "mw:sender:alice@example.org");
    const Keys other("prod:mw:");
    EXPECT_EQ(other.events(), "prod:mw:events");
    EXPECT_EQ(other.sender("a@x"), "prod:mw:sender:a@x");
}

TEST(Keys, RateLimitAndAccountKeysFollowTheDataModel) {
    const Keys keys;
    EXPECT_EQ(keys.rate_limit("per_login", "alice"), "mw:rl:per_login:alice");
    EXPECT_EQ(keys.account("Alice"), "mw:acct:Alice");  // logins keep their case
    EXPECT_EQ(keys.held(), "mw:held");
    // "a:b" + "c" and "a" + "b:c" must not meet
    EXPECT_NE(keys.rate_limit("a:b", "c"), keys.rate_limit("a", "b:c"));
    EXPECT_TRUE(keys.rate_limit("a:b", "c").starts_with("mw:rl:#"));
    const std::string long_key = keys.rate_limit("r", std::string(4096, 'k'));
    EXPECT_LE(long_key.size(), std::string("mw:rl:r:").size() + 33);
}

TEST(Keys, HourStampIsTheUtcHour) {
    EXPECT_EQ(hour_stamp(at_s(0)), "1970010100");
    EXPECT_EQ(hour_stamp(at_s(1'767'225'600 - 1)), "2025123123");
    EXPECT_EQ(hour_stamp(at_s(1'767'225'600)), "2026010100");
}

TEST(Keys, KeyPartKeepsPlainTextAndHashesEverythingElse) {
    EXPECT_EQ(Keys::key_part("Bob@x"), "Bob@x");
    const std::string odd[] = {
        "",
        "a b@x",
        "a@x\r\n*3\r\n$3\r\nDEL\r\n",
        std::string(kMaxKeyPartBytes + 1, 'a'),
        std::string(4096, 'z'),
        "#0123456789abcdef0123456789abcdef",
        std::string("nul\0byte", 8),
        "caf\xc3\xa9@x",
    };
    std::set<std::string> seen;
    for (const auto& text : odd) {
        SCOPED_TRACE(text.substr(0, 40));
        const std::string part = Keys::key_part(text);
        EXPECT_EQ(part.size(), 33u);
        EXPECT_EQ(part[0], '#');
        EXPECT_EQ(part.find_first_not_of("#0123456789abcdef"), std::string::npos);
        EXPECT_TRUE(seen.insert(part).second) << "collision";
    }
    // the longest verbatim part, and one byte more
    EXPECT_EQ(Keys::key_part(std::string(kMaxKeyPartBytes, 'a')),
              std::string(kMaxKeyPartBytes, 'a'));
    EXPECT_NE(Keys::key_part(std::string(kMaxKeyPartBytes + 1, 'a')).substr(0, 1), "a");
}

TEST(Keys, SenderKeysNeverLeaveTheirFamily) {
    const Keys keys;
    const std::string senders[] = {"x\r\nDEL mw:events", "../events", std::string(5000, 'q')};
    for (const std::string& sender : senders) {
        const std::string key = keys.sender(sender);
        EXPECT_TRUE(key.starts_with("mw:sender:")) << key;
        EXPECT_LE(key.size(), std::string("mw:sender:").size() + kMaxKeyPartBytes);
        EXPECT_EQ(key.find_first_of("\r\n "), std::string::npos);
    }
}

TEST(Sha256, MatchesFips180Vectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace mailwarden::store
