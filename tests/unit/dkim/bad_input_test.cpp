// bad_input_test.cpp - hostile and broken messages: a result with a reason, bounded work.
#include <gtest/gtest.h>

#include "auth/dkim/verifier.hpp"
#include "dns/static_resolver.hpp"
#include "test_signer.hpp"

namespace mailwarden::auth::dkim {
namespace {

using testing::SignSpec;
using testing::TestKey;

const std::chrono::system_clock::time_point kNow{std::chrono::seconds(1'700'000'000)};
constexpr std::string_view kMessage = "From: joe@example.com\r\nSubject: hi\r\n\r\nbody\r\n";

const TestKey& rsa() {
    static const TestKey key = TestKey::rsa(1024);
    return key;
}

class DkimBadInput : public ::testing::Test {
  protected:
    void SetUp() override { zone_.add_txt("sel._domainkey.example.com", rsa().record()); }
    std::vector<SignatureResult> verify(std::string_view message, Options options = {}) {
        return verify_message(zone_, message, options, kNow);
    }
    dns::StaticResolver zone_;
};

std::string with_signature_value(std::string_view value) {
    return "DKIM-Signature:" + std::string(value) + "\r\n" + std::string(kMessage);
}

TEST_F(DkimBadInput, BrokenSignatureFieldsArePermErrorsWithReasons) {
    struct Case {
        const char* name;
        std::string value;
        std::string reason;
    };
    const Case cases[] = {
        {"empty", "", "signature syntax error: empty tag-list"},
        {"truncated",
         " v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=", "signature has no b= tag"},
        {"duplicate d",
         " v=1; a=rsa-sha256; d=example.com; d=evil.example; s=sel; h=from; "
         "bh=AAAA; b=AAAA",
         "signature syntax error: duplicate tag 'd'"},
        {"b garbage", " v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=%%%%",
         "b= is not valid base64"},
        {"bh garbage", " v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=*; b=AAAA",
         "bh= is not valid base64"},
        {"binary", std::string(" v=1; a=\x01\x02", 10),
         "signature syntax error: tag 'a' has "
         "an invalid character in its value"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto results = verify(with_signature_value(c.value));
        ASSERT_EQ(results.size(), 1u);
        EXPECT_EQ(results[0].result, Result::PermError);
        EXPECT_EQ(results[0].reason, c.reason);
    }
    EXPECT_EQ(zone_.query_count(), 0u);  // no key fetched for an unusable signature
}

TEST_F(DkimBadInput, GarbageKeysArePermErrors) {
    zone_.add_txt("b64._domainkey.example.com", "v=DKIM1; p=!!notbase64!!");
    zone_.add_txt("rand._domainkey.example.com", "v=DKIM1; p=" + std::string(200, 'A'));
    zone_.add_txt("text._domainkey.example.com", "this is not a key record");
    const std::pair<const char*, const char*> cases[] = {
        {"b64", "key record p= is not valid base64 at b64._domainkey.example.com"},
        {"rand", "invalid public key: p= is not an RSA public key"},
        {"text",
         "key record syntax error: tag 'this is not a key record' has no '=' at "
         "text._domainkey.example.com"},
    };
    for (const auto& [selector, reason] : cases) {
        SignSpec spec;
        spec.selector = selector;
        const auto results = verify(sign(rsa(), spec, kMessage));
        ASSERT_EQ(results.size(), 1u);
        EXPECT_EQ(results[0].result, Result::PermError);
        EXPECT_EQ(results[0].reason, reason);
    }
}

TEST_F(DkimBadInput, TenThousandSignaturesAreBounded) {
    std::string message;
    const std::string valid = sign(rsa(), SignSpec{}, kMessage);
    const std::string field = valid.substr(0, valid.find("\r\nFrom:") + 2);
    for (int i = 0; i < 10'000; ++i) {
        message += i % 2 == 0 ? field
                              : "DKIM-Signature: v=1; d=junk" + std::to_string(i) +
                                    ".example; garbage\r\n";
    }
    message += kMessage;
    const auto results = verify(message);
    ASSERT_EQ(results.size(), 10'000u);
    Options options;
    for (std::size_t i = 0; i < options.max_signatures; ++i) {
        EXPECT_EQ(results[i].result, i % 2 == 0 ? Result::Pass : Result::PermError) << i;
    }
    for (std::size_t i = options.max_signatures; i < results.size(); ++i) {
        ASSERT_EQ(results[i].result, Result::PermError);
        ASSERT_EQ(results[i].reason, "too many signatures (only the first 10 are checked)");
        ASSERT_TRUE(results[i].domain.empty());  // not even parsed
    }
    EXPECT_EQ(zone_.query_count(), 1u);  // the one key, once
}

TEST_F(DkimBadInput, MegabyteHeaderLines) {
    const std::string big(1 << 20, 'x');
    // A signed 1 MB Subject verifies.
    const std::string message = "From: joe@example.com\r\nSubject: " + big + "\r\n\r\nbody\r\n";
    auto results = verify(sign(rsa(), SignSpec{}, message));
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].result, Result::Pass) << results[0].reason;
    // A 1 MB DKIM-Signature value is a permerror, and its echo in the result is short.
    results =
        verify(with_signature_value(" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
                                    "bh=AAAA; b=" +
                                    big));
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].result, Result::PermError);
    EXPECT_EQ(results[0].reason, "b= is longer than any signature (786432 octets)");
    EXPECT_LE(results[0].signature.size(), 255u);
    results =
        verify(with_signature_value(" v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
                                    "bh=AAAA; b=" +
                                    big + "!"));
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].reason, "b= is not valid base64");
    // A 1 MB h= list of From names (over-signing gone mad) still verifies in linear time.
    SignSpec spec;
    spec.headers.assign(100'000, "From");
    results = verify(sign(rsa(), spec, kMessage));
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].result, Result::Pass) << results[0].reason;
}

TEST_F(DkimBadInput, BodiesWithBareCrAndLf) {
    for (const std::string body : {"a\rb\nc\r\n", "\r", "\n", "\r\r\r", "\n\n\r\n\n", "x\r"}) {
        for (const auto c : {Canonicalization::Simple, Canonicalization::Relaxed}) {
            SignSpec spec;
            spec.body_canon = c;
            const std::string msg = "From: joe@example.com\r\n\r\n" + body;
            const auto results = verify(sign(rsa(), spec, msg));
            ASSERT_EQ(results.size(), 1u);
            EXPECT_EQ(results[0].result, Result::Pass) << results[0].reason;
        }
    }
}

TEST_F(DkimBadInput, EmptyBodyAndNoBody) {
    for (const auto c : {Canonicalization::Simple, Canonicalization::Relaxed}) {
        SignSpec spec;
        spec.body_canon = c;
        const std::string empty_body = "From: joe@example.com\r\n\r\n";
        auto results = verify(sign(rsa(), spec, empty_body));
        ASSERT_EQ(results.size(), 1u);
        EXPECT_EQ(results[0].result, Result::Pass) << results[0].reason;
        // No blank line at all: the same (empty) body.
        const std::string no_body = "From: joe@example.com\r\n";
        results = verify(sign(rsa(), spec, no_body));
        ASSERT_EQ(results.size(), 1u);
        EXPECT_EQ(results[0].result, Result::Pass) << results[0].reason;
    }
    // A header with no fields at all, and an empty message.
    EXPECT_TRUE(verify("").empty());
    EXPECT_TRUE(verify("\r\n\r\nbody").empty());
}

TEST_F(DkimBadInput, StreamingApiMisuseIsHarmless) {
    Verifier v(zone_, Options{}, kNow);
    v.body(std::as_bytes(std::span<const char>("x", 1)));  // body before end_of_headers
    v.header("DKIM-Signature", " late");                   // header after the body: ignored
    v.end_of_headers();
    EXPECT_TRUE(v.finish().empty());
    Verifier moved = std::move(v);
    EXPECT_TRUE(moved.finish().empty());
}

}  // namespace
}  // namespace mailwarden::auth::dkim
