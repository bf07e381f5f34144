// verifier_test.cpp - the streaming verifier on messages signed in the test.
#include "auth/dkim/verifier.hpp"

#include <gtest/gtest.h>

#include "dns/static_resolver.hpp"
#include "test_signer.hpp"

namespace mailwarden::auth::dkim {
namespace {

using testing::SignSpec;
using testing::TestKey;

const std::chrono::system_clock::time_point kNow{std::chrono::seconds(1'700'000'000)};

constexpr std::string_view kMessage =
    "From: Joe <joe@example.com>\r\n"
    "To: ann@example.net\r\n"
    "Subject: a  test\r\n"
    "\tmessage\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "\r\n"
    "Hello Ann,\r\n"
    "\r\n"
    "this is  a test. \r\n"
    "\r\n"
    "\r\n";

std::string replace(std::string text, std::string_view from, std::string_view to) {
    const auto at = text.find(from);
    if (at != std::string::npos) {
        text.replace(at, from.size(), to);
    }
    return text;
}

class DkimVerifier : public ::testing::Test {
  protected:
    static const TestKey& rsa() {
        static const TestKey key = TestKey::rsa(2048);
        return key;
    }
    static const TestKey& ed() {
        static const TestKey key = TestKey::ed25519();
        return key;
    }

    void SetUp() override {
        zone_.add_txt("sel._domainkey.example.com", rsa().record());
        zone_.add_txt("ed._domainkey.example.com", ed().record());
    }

    std::vector<SignatureResult> verify(std::string_view message, Options options = {}) {
        return verify_message(zone_, message, options, kNow);
    }

    SignatureResult verify_one(std::string_view message, Options options = {}) {
        auto results = verify(message, options);
        EXPECT_EQ(results.size(), 1u);
        return results.empty() ? SignatureResult{} : results.front();
    }

    dns::StaticResolver zone_;
};

TEST_F(DkimVerifier, PassesEveryAlgorithmAndCanonicalization) {
    for (const auto hc : {Canonicalization::Simple, Canonicalization::Relaxed}) {
        for (const auto bc : {Canonicalization::Simple, Canonicalization::Relaxed}) {
            for (const bool use_ed : {false, true}) {
                SignSpec spec;
                spec.header_canon = hc;
                spec.body_canon = bc;
                spec.algorithm = use_ed ? Algorithm::Ed25519Sha256 : Algorithm::RsaSha256;
                spec.selector = use_ed ? "ed" : "sel";
                const auto r = verify_one(sign(use_ed ? ed() : rsa(), spec, kMessage));
                SCOPED_TRACE(testing::base64({}) + std::string(to_string(spec.algorithm)));
                EXPECT_EQ(r.result, Result::Pass) << r.reason;
                EXPECT_EQ(r.reason, "signature verified");
                EXPECT_EQ(r.domain, "example.com");
                EXPECT_EQ(r.selector, spec.selector);
                EXPECT_EQ(r.identity, "@example.com");
                EXPECT_EQ(r.algorithm, to_string(spec.algorithm));
                EXPECT_EQ(r.key_bits, use_ed ? 256u : 2048u);
                EXPECT_FALSE(r.signature.empty());
                EXPECT_FALSE(r.body_length_limited);
            }
        }
    }
}

TEST_F(DkimVerifier, ModifiedHeaderFailsTheSignature) {
    const std::string signed_msg = sign(rsa(), SignSpec{}, kMessage);
    const auto r = verify_one(replace(signed_msg, "Subject: a", "Subject: A"));
    EXPECT_EQ(r.result, Result::Fail);
    EXPECT_EQ(r.reason, "signature did not verify");
}

TEST_F(DkimVerifier, ModifiedBodyFailsTheBodyHash) {
    const std::string signed_msg = sign(rsa(), SignSpec{}, kMessage);
    const auto r = verify_one(replace(signed_msg, "Hello Ann", "Hello Bob"));
    EXPECT_EQ(r.result, Result::Fail);
    EXPECT_EQ(r.reason, "body hash did not verify");
}

TEST_F(DkimVerifier, WhitespaceChangesPassRelaxedAndFailSimple) {
    SignSpec relaxed;
    SignSpec simple;
    simple.header_canon = simple.body_canon = Canonicalization::Simple;
    auto reflow = [](std::string m) {
        m = replace(m, "Subject: a  test", "Subject:  a test ");
        m = replace(m, "this is  a test. ", "this is a  test.");
        return m + "\r\n\r\n";  // more trailing empty lines
    };
    EXPECT_EQ(verify_one(reflow(sign(rsa(), relaxed, kMessage))).result, Result::Pass);
    EXPECT_EQ(verify_one(reflow(sign(rsa(), simple, kMessage))).result, Result::Fail);
    // Trailing empty lines alone do not matter even for simple (RFC 6376 §3.4.3).
    EXPECT_EQ(verify_one(sign(rsa(), simple, kMessage) + "\r\n\r\n").result, Result::Pass);
}

TEST_F(DkimVerifier, OverSignedHeadersRefuseAddedInstances) {
    SignSpec spec;
    spec.headers = {"From", "From", "Subject", "Subject", "To"};
    const std::string signed_msg = sign(rsa(), spec, kMessage);
    EXPECT_EQ(verify_one(signed_msg).result, Result::Pass);
    // A second From: or Subject: added anywhere breaks the signature.
    EXPECT_EQ(verify_one(signed_msg + "").result, Result::Pass);
    const auto extra = replace(signed_msg, "Date:", "Subject: extra\r\nDate:");
    EXPECT_EQ(verify_one(extra).result, Result::Fail);
}

TEST_F(DkimVerifier, HeadersAreSelectedFromTheBottomUp) {
    const std::string two =
        replace(std::string(kMessage), "Date:", "Received: first\r\nReceived: second\r\nDate:");
    SignSpec spec;
    spec.headers = {"From", "Received"};  // signs the bottom-most Received only
    const std::string signed_msg = sign(rsa(), spec, two);
    EXPECT_EQ(verify_one(signed_msg).result, Result::Pass);
    EXPECT_EQ(verify_one(replace(signed_msg, "first", "FIRST")).result, Result::Pass);
    EXPECT_EQ(verify_one(replace(signed_msg, "second", "SECOND")).result, Result::Fail);
    // A Received added on top (as a relay does) does not break it.
    EXPECT_EQ(verify_one("Received: relay\r\n" + signed_msg).result, Result::Pass);
}

TEST_F(DkimVerifier, BodyLengthLimit) {
    SignSpec spec;
    spec.length = 12;
    const std::string signed_msg = sign(rsa(), spec, kMessage);
    auto r = verify_one(signed_msg + "appended by a list\r\n");
    EXPECT_EQ(r.result, Result::Pass) << r.reason;
    EXPECT_TRUE(r.body_length_limited);
    EXPECT_EQ(r.reason, "signature verified (l=12: only that much of the body is signed)");
    EXPECT_EQ(verify_one(replace(signed_msg, "Hello", "Howdy")).result, Result::Fail);

    spec.length = 100000;  // more than the body: the signer did not sign this body
    r = verify_one(sign(rsa(), spec, kMessage));
    EXPECT_EQ(r.result, Result::Fail);
    EXPECT_EQ(r.reason, "body hash did not verify (body is 31 octets, l=100000)");
}

TEST_F(DkimVerifier, KeyProblemsArePermErrors) {
    const TestKey small = TestKey::rsa(512);
    zone_.add_txt("small._domainkey.example.com", small.record());
    zone_.add_txt("revoked._domainkey.example.com", "v=DKIM1; k=rsa; p=");
    zone_.add_txt("wrongk._domainkey.example.com", ed().record());
    zone_.add_txt("sha1only._domainkey.example.com", rsa().record("h=sha1; "));
    zone_.add_txt("chat._domainkey.example.com", rsa().record("s=chat; "));
    zone_.add_txt("notakey._domainkey.example.com", "v=DKIM1; p=QUJDREVGRw==");
    zone_.add_txt("empty._domainkey.example.com", "");
    zone_.add_txt("pkcs1._domainkey.example.com",
                  "v=DKIM1; p=" + testing::base64(rsa().pkcs1_public_bytes()));
    struct Case {
        std::string selector;
        Result result;
        std::string reason;
    };
    const Case cases[] = {
        {"small", Result::PermError, "key too short (512 bits)"},
        {"revoked", Result::PermError, "key revoked"},
        {"missing", Result::PermError, "no key record at missing._domainkey.example.com"},
        {"wrongk", Result::PermError, "key type ed25519 does not match a=rsa-sha256"},
        {"sha1only", Result::PermError, "key record h= does not allow sha256"},
        {"chat", Result::PermError, "key record s= does not allow email"},
        {"notakey", Result::PermError, "invalid public key: p= is not an RSA public key"},
        {"empty", Result::PermError, "no key record at empty._domainkey.example.com (empty)"},
        {"pkcs1", Result::Pass, "signature verified"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.selector);
        SignSpec spec;
        spec.selector = c.selector;
        const auto r = verify_one(sign(c.selector == "small" ? small : rsa(), spec, kMessage));
        EXPECT_EQ(r.result, c.result);
        EXPECT_EQ(r.reason, c.reason);
    }
    // A site that accepts short keys.
    SignSpec spec;
    spec.selector = "small";
    Options lenient;
    lenient.min_rsa_bits = 512;
    const auto r = verify_one(sign(small, spec, kMessage), lenient);
    EXPECT_EQ(r.result, Result::Pass) << r.reason;
    EXPECT_EQ(r.key_bits, 512u);
}

TEST_F(DkimVerifier, DnsFailuresAreTempErrors) {
    zone_.add_failure("slow._domainkey.example.com", dns::Rcode::Timeout);
    zone_.add_failure("broken._domainkey.example.com", dns::Rcode::ServFail);
    zone_.add_failure("refused._domainkey.example.com", dns::Rcode::Refused);
    const std::pair<const char*, const char*> cases[] = {
        {"slow", "DNS timeout fetching key at slow._domainkey.example.com"},
        {"broken", "DNS server failure fetching key at broken._domainkey.example.com"},
        {"refused", "DNS query refused fetching key at refused._domainkey.example.com"},
    };
    for (const auto& [selector, reason] : cases) {
        SignSpec spec;
        spec.selector = selector;
        const auto r = verify_one(sign(rsa(), spec, kMessage));
        EXPECT_EQ(r.result, Result::TempError);
        EXPECT_EQ(r.reason, reason);
    }
}

TEST_F(DkimVerifier, RsaSha1FollowsRfc8301UnlessAllowed) {
    SignSpec spec;
    spec.algorithm = Algorithm::RsaSha1;
    const std::string signed_msg = sign(rsa(), spec, kMessage);
    auto r = verify_one(signed_msg);
    EXPECT_EQ(r.result, Result::PermError);
    EXPECT_EQ(r.reason, "rsa-sha1 is not an acceptable algorithm (RFC 8301)");
    Options legacy;
    legacy.allow_rsa_sha1 = true;
    r = verify_one(signed_msg, legacy);
    EXPECT_EQ(r.result, Result::Pass) << r.reason;
}

TEST_F(DkimVerifier, ExpiryAndTimestamps) {
    SignSpec spec;
    spec.extra_tags = "t=1699990000; x=1699999000; ";
    auto r = verify_one(sign(rsa(), spec, kMessage));
    EXPECT_EQ(r.result, Result::PermError);
    EXPECT_EQ(r.reason, "signature expired at 2023-11-14T21:56:40Z");
    Options tolerant;
    tolerant.clock_skew = std::chrono::seconds(3600);
    EXPECT_EQ(verify_one(sign(rsa(), spec, kMessage), tolerant).result, Result::Pass);
    spec.extra_tags = "t=1700009000; ";
    r = verify_one(sign(rsa(), spec, kMessage));
    EXPECT_EQ(r.result, Result::PermError);
    EXPECT_EQ(r.reason, "signature timestamp is in the future (2023-11-15T00:43:20Z)");
}

TEST_F(DkimVerifier, KeyFlagTestingAndStrictIdentity) {
    zone_.add_txt("testing._domainkey.example.com", rsa().record("t=y; "));
    zone_.add_txt("strict._domainkey.example.com", rsa().record("t=s; "));
    SignSpec spec;
    spec.selector = "testing";
    auto r = verify_one(sign(rsa(), spec, kMessage));
    EXPECT_EQ(r.result, Result::Pass);
    EXPECT_EQ(r.reason, "signature verified (key in testing mode, t=y)");
    spec.selector = "strict";
    spec.extra_tags = "i=joe@sub.example.com; ";
    r = verify_one(sign(rsa(), spec, kMessage));
    EXPECT_EQ(r.result, Result::PermError);
    EXPECT_EQ(r.reason, "key record t=s requires i= in exactly d=");
    EXPECT_EQ(r.identity, "joe@sub.example.com");
}

TEST_F(DkimVerifier, EverySignatureGetsItsOwnResultInHeaderOrder) {
    SignSpec first;
    SignSpec second;
    second.algorithm = Algorithm::Ed25519Sha256;
    second.selector = "ed";
    SignSpec third;
    third.selector = "gone";
    // Signed innermost first: the header order is third, second, first.
    const std::string msg = sign(rsa(), third, sign(ed(), second, sign(rsa(), first, kMessage)));
    const auto results = verify(msg);
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[0].result, Result::PermError);
    EXPECT_EQ(results[0].selector, "gone");
    EXPECT_EQ(results[1].result, Result::Pass);
    EXPECT_EQ(results[1].selector, "ed");
    EXPECT_EQ(results[2].result, Result::Pass);
    EXPECT_EQ(results[2].selector, "sel");
}

TEST_F(DkimVerifier, NoSignatureGivesNoResults) {
    EXPECT_TRUE(verify(kMessage).empty());
    EXPECT_EQ(zone_.query_count(), 0u);
}

TEST_F(DkimVerifier, OneQueryPerKeyName) {
    const std::string msg = sign(rsa(), SignSpec{}, sign(rsa(), SignSpec{}, kMessage));
    const auto results = verify(msg);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].result, Result::Pass);
    EXPECT_EQ(results[1].result, Result::Pass);
    EXPECT_EQ(zone_.query_count(), 1u);
}

TEST_F(DkimVerifier, StreamingMatchesWholeMessageAtEveryChunkSize) {
    SignSpec spec;
    spec.header_canon = Canonicalization::Simple;
    spec.body_canon = Canonicalization::Simple;
    const std::string signed_msg = sign(rsa(), spec, sign(rsa(), SignSpec{}, kMessage));
    const auto split = testing::split_message(signed_msg);
    for (const std::size_t chunk : {1u, 2u, 3u, 7u, 64u}) {
        SCOPED_TRACE(chunk);
        Verifier v(zone_, Options{}, kNow);
        for (const auto& [name, value] : split.fields) {
            v.header(name, value);
        }
        v.end_of_headers();
        for (std::size_t at = 0; at < split.body.size(); at += chunk) {
            const auto piece = std::string_view(split.body).substr(at, chunk);
            v.body(std::as_bytes(std::span<const char>(piece.data(), piece.size())));
        }
        const auto results = v.finish();
        ASSERT_EQ(results.size(), 2u);
        EXPECT_EQ(results[0].result, Result::Pass) << results[0].reason;
        EXPECT_EQ(results[1].result, Result::Pass) << results[1].reason;
    }
}

TEST_F(DkimVerifier, MilterStyleValuesWithBareLfFolding) {
    const std::string signed_msg = sign(rsa(), SignSpec{}, kMessage);
    const auto split = testing::split_message(signed_msg);
    Verifier v(zone_, Options{}, kNow);
    for (const auto& [name, value] : split.fields) {
        std::string lf = value;
        for (std::size_t at; (at = lf.find("\r\n")) != std::string::npos;) {
            lf.erase(at, 1);
        }
        v.header(name, lf);
    }
    v.end_of_headers();
    v.body(std::as_bytes(std::span<const char>(split.body.data(), split.body.size())));
    const auto results = v.finish();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].result, Result::Pass) << results[0].reason;
}

TEST_F(DkimVerifier, KeysAreFetchedAtEndOfHeaders) {
    const auto split = testing::split_message(sign(rsa(), SignSpec{}, kMessage));
    Verifier v(zone_, Options{}, kNow);
    for (const auto& [name, value] : split.fields) {
        v.header(name, value);
    }
    EXPECT_EQ(zone_.query_count(), 0u);
    v.end_of_headers();
    EXPECT_EQ(zone_.query_count(), 1u);
    v.body(std::as_bytes(std::span<const char>(split.body.data(), split.body.size())));
    const auto results = v.finish();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].result, Result::Pass);
    EXPECT_TRUE(v.finish().empty());  // a second call has nothing more to say
}

TEST_F(DkimVerifier, LfOnlyMessageVerifies) {
    std::string lf = sign(rsa(), SignSpec{}, kMessage);
    for (std::size_t at; (at = lf.find("\r\n")) != std::string::npos;) {
        lf.erase(at, 1);
    }
    EXPECT_EQ(verify_one(lf).result, Result::Pass);
}

}  // namespace
}  // namespace mailwarden::auth::dkim
