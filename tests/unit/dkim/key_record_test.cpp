// key_record_test.cpp - DKIM key records (RFC 6376 §3.6.1, RFC 8463 §4).
#include "auth/dkim/key_record.hpp"

#include <gtest/gtest.h>

namespace mailwarden::auth::dkim {
namespace {

Signature signature(Algorithm algorithm, std::string identity_domain = "example.com") {
    Signature s;
    s.algorithm = algorithm;
    s.domain = "example.com";
    s.identity_domain = std::move(identity_domain);
    return s;
}

TEST(DkimKeyRecord, ParsesTagsAndDefaults) {
    auto key = parse_key_record("v=DKIM1; p=AQID");
    ASSERT_TRUE(key.has_value()) << key.error();
    EXPECT_EQ(key->type, KeyType::Rsa);
    EXPECT_TRUE(key->allows_sha1);
    EXPECT_TRUE(key->allows_sha256);
    EXPECT_TRUE(key->email_service);
    EXPECT_FALSE(key->testing);
    EXPECT_FALSE(key->revoked);
    EXPECT_EQ(key->public_key, (std::vector<std::uint8_t>{1, 2, 3}));

    auto full = parse_key_record(
        "v=DKIM1; k=ed25519; h=sha256:future; s=email:chat; t=y:s; n=notes; p=AQ ID");
    ASSERT_TRUE(full.has_value()) << full.error();
    EXPECT_EQ(full->type, KeyType::Ed25519);
    EXPECT_FALSE(full->allows_sha1);
    EXPECT_TRUE(full->allows_sha256);
    EXPECT_TRUE(full->email_service);
    EXPECT_TRUE(full->testing);
    EXPECT_TRUE(full->strict_identity);
}

TEST(DkimKeyRecord, EmptyPMeansRevoked) {
    auto key = parse_key_record("v=DKIM1; k=rsa; p=");
    ASSERT_TRUE(key.has_value());
    EXPECT_TRUE(key->revoked);
    EXPECT_EQ(check_key_usable(*key, signature(Algorithm::RsaSha256)), "key revoked");
}

TEST(DkimKeyRecord, RejectsBadRecords) {
    struct Case {
        const char* name;
        std::string text;
        const char* reason;
    };
    const Case cases[] = {
        {"v not first", "k=rsa; v=DKIM1; p=AQID", "key record v= is not the first tag"},
        {"v=DKIM3", "v=DKIM3; p=AQID", "key record version is not DKIM1 (v=DKIM3)"},
        {"v=DKIM1:", "v=DKIM1:; p=AQID", "key record version is not DKIM1 (v=DKIM1:)"},
        {"k=dsa", "v=DKIM1; k=dsa; p=AQID", "unknown key type k=dsa"},
        {"k=ed25519-sha256", "k=ed25519-sha256; p=AQID", "unknown key type k=ed25519-sha256"},
        {"no p (rspamd revoked)", "v=DKIM1; k=rsa;", "key record has no p= tag"},
        {"no dkim tags", "bio=a263adeab8", "key record has no p= tag"},
        {"p garbage", "v=DKIM1; p=BA!F", "key record p= is not valid base64"},
        {"syntax", "v=DKIM1; p", "key record syntax error: tag 'p' has no '='"},
        {"empty", "", "key record is empty"},
        {"too long", "v=DKIM1; p=" + std::string(9000, 'A'), "key record too long (9011 octets)"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto key = parse_key_record(c.text);
        ASSERT_FALSE(key.has_value());
        EXPECT_EQ(key.error(), c.reason);
    }
}

TEST(DkimKeyRecord, UsabilityFollowsRfc6376Section612) {
    auto rsa = parse_key_record("p=AQID");
    ASSERT_TRUE(rsa.has_value());
    EXPECT_EQ(check_key_usable(*rsa, signature(Algorithm::RsaSha256)), "");
    EXPECT_EQ(check_key_usable(*rsa, signature(Algorithm::Ed25519Sha256)),
              "key type rsa does not match a=ed25519-sha256");

    auto sha1_only = parse_key_record("h=sha1; p=AQID");
    ASSERT_TRUE(sha1_only.has_value());
    EXPECT_EQ(check_key_usable(*sha1_only, signature(Algorithm::RsaSha256)),
              "key record h= does not allow sha256");

    auto chat = parse_key_record("s=chat; p=AQID");
    ASSERT_TRUE(chat.has_value());
    EXPECT_EQ(check_key_usable(*chat, signature(Algorithm::RsaSha256)),
              "key record s= does not allow email");
    auto any = parse_key_record("s=*; p=AQID");
    ASSERT_TRUE(any.has_value());
    EXPECT_EQ(check_key_usable(*any, signature(Algorithm::RsaSha256)), "");

    auto strict = parse_key_record("t=s; p=AQID");
    ASSERT_TRUE(strict.has_value());
    EXPECT_EQ(check_key_usable(*strict, signature(Algorithm::RsaSha256)), "");
    EXPECT_EQ(check_key_usable(*strict, signature(Algorithm::RsaSha256, "sub.example.com")),
              "key record t=s requires i= in exactly d=");
}

TEST(DkimKeyRecord, IgnoresUnknownTagsAndRfc4870Granularity) {
    auto key = parse_key_record("v=DKIM1; g=jl*g; foo=bar; p=AQID");
    ASSERT_TRUE(key.has_value()) << key.error();
    EXPECT_EQ(check_key_usable(*key, signature(Algorithm::RsaSha256)), "");
}

}  // namespace
}  // namespace mailwarden::auth::dkim
