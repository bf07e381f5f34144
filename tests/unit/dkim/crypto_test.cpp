// crypto_test.cpp - hashing, public key parsing and signature checks over OpenSSL.
#include "auth/dkim/crypto.hpp"

#include <gtest/gtest.h>

#include "test_signer.hpp"

namespace mailwarden::auth::dkim {
namespace {

using testing::TestKey;

std::vector<std::uint8_t> sha256(std::string_view data) {
    Hasher h(HashAlgorithm::Sha256);
    h.update(data);
    return h.finish();
}

std::vector<std::uint8_t> sign_digest(const TestKey& key, Algorithm algorithm,
                                      std::string_view data) {
    std::vector<std::uint8_t> sig(1024);
    std::size_t len = sig.size();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (key.type() == KeyType::Ed25519) {
        const auto d = sha256(data);
        EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key.pkey());
        EVP_DigestSign(ctx, sig.data(), &len, d.data(), d.size());
    } else {
        EVP_DigestSignInit(ctx, nullptr,
                           algorithm == Algorithm::RsaSha1 ? EVP_sha1() : EVP_sha256(), nullptr,
                           key.pkey());
        EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size());
    }
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return sig;
}

TEST(DkimCrypto, Sha256KnownAnswer) {
    EXPECT_EQ(testing::base64(sha256("")), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    EXPECT_EQ(testing::base64(sha256("\r\n")), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
    Hasher sha1(HashAlgorithm::Sha1);
    sha1.update("abc");
    EXPECT_EQ(testing::base64(sha1.finish()), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
}

TEST(DkimCrypto, RsaSha256VerifiesAndRejects) {
    const TestKey key = TestKey::rsa(1024);
    auto pub = PublicKey::parse(KeyType::Rsa, key.public_bytes());
    ASSERT_TRUE(pub.has_value()) << pub.error();
    EXPECT_EQ(pub->bits(), 1024u);
    const auto sig = sign_digest(key, Algorithm::RsaSha256, "data");
    EXPECT_TRUE(pub->verify(Algorithm::RsaSha256, sha256("data"), sig));
    EXPECT_FALSE(pub->verify(Algorithm::RsaSha256, sha256("Data"), sig));
    EXPECT_FALSE(pub->verify(Algorithm::Ed25519Sha256, sha256("data"), sig));
    auto bad = sig;
    bad[10] ^= 1;
    EXPECT_FALSE(pub->verify(Algorithm::RsaSha256, sha256("data"), bad));
    EXPECT_FALSE(pub->verify(Algorithm::RsaSha256, sha256("data"), {}));
}

TEST(DkimCrypto, RsaSha1Verifies) {
    const TestKey key = TestKey::rsa(1024);
    auto pub = PublicKey::parse(KeyType::Rsa, key.public_bytes());
    ASSERT_TRUE(pub.has_value());
    Hasher h(HashAlgorithm::Sha1);
    h.update("data");
    EXPECT_TRUE(
        pub->verify(Algorithm::RsaSha1, h.finish(), sign_digest(key, Algorithm::RsaSha1, "data")));
}

TEST(DkimCrypto, AcceptsPkcs1RsaPublicKey) {
    const TestKey key = TestKey::rsa(1024);
    auto pub = PublicKey::parse(KeyType::Rsa, key.pkcs1_public_bytes());
    ASSERT_TRUE(pub.has_value()) << pub.error();
    EXPECT_TRUE(pub->verify(Algorithm::RsaSha256, sha256("x"),
                            sign_digest(key, Algorithm::RsaSha256, "x")));
}

TEST(DkimCrypto, Ed25519OverTheSha256Digest) {
    const TestKey key = TestKey::ed25519();
    auto pub = PublicKey::parse(KeyType::Ed25519, key.public_bytes());
    ASSERT_TRUE(pub.has_value()) << pub.error();
    EXPECT_EQ(pub->bits(), 256u);
    const auto sig = sign_digest(key, Algorithm::Ed25519Sha256, "data");
    EXPECT_TRUE(pub->verify(Algorithm::Ed25519Sha256, sha256("data"), sig));
    EXPECT_FALSE(pub->verify(Algorithm::Ed25519Sha256, sha256("datA"), sig));
}

TEST(DkimCrypto, RejectsThingsThatAreNotKeys) {
    const TestKey rsa = TestKey::rsa(1024);
    const TestKey ed = TestKey::ed25519();
    auto truncated = rsa.public_bytes();
    truncated.resize(truncated.size() - 10);
    auto trailing = rsa.public_bytes();
    trailing.push_back(0);
    const std::vector<std::uint8_t> garbage(162, 0x42);

    EXPECT_EQ(PublicKey::parse(KeyType::Rsa, truncated).error(), "p= is not an RSA public key");
    EXPECT_EQ(PublicKey::parse(KeyType::Rsa, trailing).error(), "p= is not an RSA public key");
    EXPECT_EQ(PublicKey::parse(KeyType::Rsa, garbage).error(), "p= is not an RSA public key");
    EXPECT_EQ(PublicKey::parse(KeyType::Rsa, {}).error(), "p= is not an RSA public key");
    // An Ed25519 SPKI where an RSA key is expected, and vice versa.
    std::vector<std::uint8_t> ed_spki(64);
    {
        unsigned char* p = ed_spki.data();
        ed_spki.resize(static_cast<std::size_t>(i2d_PUBKEY(ed.pkey(), &p)));
    }
    EXPECT_EQ(PublicKey::parse(KeyType::Rsa, ed_spki).error(), "p= is not an RSA public key");
    EXPECT_EQ(PublicKey::parse(KeyType::Ed25519, ed_spki).error(),
              "ed25519 key is 44 bytes, not 32");
    EXPECT_EQ(PublicKey::parse(KeyType::Ed25519, rsa.public_bytes()).error(),
              "ed25519 key is 162 bytes, not 32");
}

}  // namespace
}  // namespace mailwarden::auth::dkim
