// key_builder_test.cpp - bucket keys: readable when they can be, hashed when they must
// be, never colliding, never carrying CR, LF, spaces or unbounded length.
#include "ratelimit/key_builder.hpp"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/bucket_store.hpp"

namespace mailwarden::ratelimit {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

MessageFacts facts(std::string login, std::string sender, const char* ip) {
    MessageFacts f;
    f.login = std::move(login);
    f.sender = std::move(sender);
    if (ip != nullptr) {
        f.client_ip = *util::IpAddress::parse(ip);
    }
    return f;
}

bool printable(std::string_view key) {
    for (char c : key) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e) {
            return false;
        }
    }
    return true;
}

TEST(KeyBuilder, EveryKindOfKey) {
    const auto f = facts("Alice", "Alice@Example.COM", "192.0.2.77");
    using K = KeyPart;
    const std::vector<K> login = {K::Login}, sender = {K::Sender}, domain = {K::SenderDomain},
                         ip = {K::ClientIp}, prefix = {K::ClientPrefix},
                         combo = {K::Login, K::ClientIp}, rcpt = {K::Recipient};
    EXPECT_EQ(subject(login, f), "alice");
    EXPECT_EQ(subject(sender, f), "alice@example.com");
    EXPECT_EQ(subject(domain, f), "example.com");
    EXPECT_EQ(subject(ip, f), "192.0.2.77");
    EXPECT_EQ(subject(prefix, f), "192.0.2.0/24");
    EXPECT_EQ(subject(combo, f), "alice|192.0.2.77");
    EXPECT_EQ(subject(rcpt, f, "Bob@Example.org"), "bob@example.org");

    const auto v6 = facts("", "", "2001:db8:1:2:3:4:5:6");
    EXPECT_EQ(subject(prefix, v6), "2001:db8:1:2::/64");
    EXPECT_EQ(subject(ip, v6), "2001:db8:1:2:3:4:5:6");
    const auto mapped = facts("", "", "::ffff:198.51.100.9");
    EXPECT_EQ(subject(ip, mapped), "198.51.100.9");
    EXPECT_EQ(subject(prefix, mapped), "198.51.100.0/24");

    EXPECT_EQ(bucket_key("outbound-login", 1min, "alice"), "outbound-login:1m:alice");
}

TEST(KeyBuilder, MissingFactsMeanTheRuleDoesNotApply) {
    const auto none = facts("", "", nullptr);
    EXPECT_EQ(subject(std::vector{KeyPart::Login}, none), std::nullopt);
    EXPECT_EQ(subject(std::vector{KeyPart::Sender}, none), std::nullopt);  // null sender <>
    EXPECT_EQ(subject(std::vector{KeyPart::SenderDomain}, facts("", "nodomain", nullptr)),
              std::nullopt);
    EXPECT_EQ(subject(std::vector{KeyPart::ClientIp}, none), std::nullopt);
    EXPECT_EQ(subject(std::vector{KeyPart::Recipient}, none, ""), std::nullopt);
    EXPECT_EQ(subject(std::vector{KeyPart::Login, KeyPart::ClientIp}, facts("a", "", nullptr)),
              std::nullopt);
}

TEST(KeyBuilder, OddBytesAreHashedKeepingAReadablePrefix) {
    const std::string crlf = "x\r\n*3\r\n$3\r\nDEL\r\n$1\r\nk\r\n";
    const auto encoded = encode_part(crlf);
    EXPECT_TRUE(printable(encoded)) << encoded;
    EXPECT_THAT(encoded, ::testing::MatchesRegex("x#[0-9a-f]{32}"));

    const std::string four_k(4096, 'a');
    const auto big = encode_part(four_k);
    EXPECT_EQ(big.size(), kReadablePrefix + 1 + 32);
    EXPECT_TRUE(big.starts_with(std::string(kReadablePrefix, 'a') + "#"));

    EXPECT_THAT(encode_part("j\xc3\xb6rg@example.de"), ::testing::MatchesRegex("j#[0-9a-f]{32}"));
    EXPECT_THAT(encode_part("a b"), ::testing::MatchesRegex("a#[0-9a-f]{32}"));
    EXPECT_THAT(encode_part(std::string("nul\0byte", 8)),
                ::testing::MatchesRegex("nul#[0-9a-f]{32}"));
    // A part that merely looks like an encoding is itself encoded (it holds '#').
    const auto lookalike = "x#" + encoded.substr(2);
    EXPECT_NE(encode_part(lookalike), encoded);
    EXPECT_THAT(encode_part("a|b"), ::testing::MatchesRegex("a#[0-9a-f]{32}"));
}

TEST(KeyBuilder, DistinctFactsNeverShareAKey) {
    const std::vector<std::string> inputs = {
        "alice",
        "alice ",
        "alice\r\n",
        "alice\n",
        "alice\0"s,
        std::string(4096, 'a'),
        std::string(4095, 'a'),
        std::string(4096, 'a') + "b",
        std::string(64, 'a'),
        std::string(65, 'a'),
        "a|b",
        "a#b",
        "x\r\n*3\r\n$3\r\nDEL\r\n",
        "x\r\n*3\r\n$3\r\nDEL\r\n ",
        "#",
        "|",
    };
    std::set<std::string> keys;
    for (const auto& in : inputs) {
        const auto k =
            bucket_key("r", 1min, *subject(std::vector{KeyPart::Login}, facts(in, "", nullptr)));
        EXPECT_TRUE(printable(k)) << k;
        EXPECT_LE(k.size(), store::kMaxBucketKeyBytes);
        EXPECT_TRUE(keys.insert(k).second) << "collision for input of " << in.size() << " bytes";
    }
    // Combined parts cannot shift across the separator.
    const auto ab =
        subject(std::vector{KeyPart::Login, KeyPart::Sender}, facts("a|b", "c", nullptr));
    const auto a_bc =
        subject(std::vector{KeyPart::Login, KeyPart::Sender}, facts("a", "b|c", nullptr));
    EXPECT_NE(ab, a_bc);
}

TEST(KeyBuilder, AllSixPartsAt4KbStayUnderTheStoreBound) {
    const std::string huge(4096, '\n');
    MessageFacts f = facts(huge, huge + "@" + huge, "2001:db8::1");
    const std::vector<KeyPart> all = {KeyPart::Login,        KeyPart::Sender,
                                      KeyPart::SenderDomain, KeyPart::ClientIp,
                                      KeyPart::ClientPrefix, KeyPart::Recipient};
    const auto subj = subject(all, f, huge);
    ASSERT_TRUE(subj.has_value());
    const auto key = bucket_key(std::string(64, 'r'), 366 * 24h, *subj);
    EXPECT_LE(key.size(), store::kMaxBucketKeyBytes);
    EXPECT_TRUE(printable(key));
}

}  // namespace
}  // namespace mailwarden::ratelimit
