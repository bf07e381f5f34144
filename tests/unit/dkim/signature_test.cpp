// signature_test.cpp - DKIM-Signature parsing and validation (RFC 6376 §3.5, §6.1.1).
#include "auth/dkim/signature.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "auth/dkim/base64.hpp"

namespace mailwarden::auth::dkim {
namespace {

constexpr std::string_view kGood =
    " v=1; a=rsa-sha256; c=relaxed/simple; d=Example.COM; s=sel;\r\n"
    "\th=From:To:Subject; i=joe@mail.example.com; l=42; q=dns/txt; t=1000; x=2000;\r\n"
    "\tz=ignored; unknown=tag; bh=AAAA; b=AAEC\r\n\tAwQF";

std::string replace(std::string_view text, std::string_view from, std::string_view to) {
    std::string s(text);
    const auto at = s.find(from);
    if (at != std::string::npos) {
        s.replace(at, from.size(), to);
    }
    return s;
}

TEST(DkimSignature, ParsesEveryTag) {
    auto sig = parse_signature(kGood);
    ASSERT_TRUE(sig.has_value()) << sig.error();
    EXPECT_EQ(sig->algorithm, Algorithm::RsaSha256);
    EXPECT_EQ(sig->header_canon, Canonicalization::Relaxed);
    EXPECT_EQ(sig->body_canon, Canonicalization::Simple);
    EXPECT_EQ(sig->domain, "example.com");
    EXPECT_EQ(sig->selector, "sel");
    EXPECT_EQ(sig->headers, (std::vector<std::string>{"From", "To", "Subject"}));
    EXPECT_EQ(sig->identity, "joe@mail.example.com");
    EXPECT_EQ(sig->identity_domain, "mail.example.com");
    EXPECT_EQ(sig->length, 42u);
    EXPECT_EQ(sig->timestamp, 1000u);
    EXPECT_EQ(sig->expiration, 2000u);
    EXPECT_EQ(sig->b, (std::vector<std::uint8_t>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(sig->b_text, "AAECAwQF");
    EXPECT_EQ(sig->bh, (std::vector<std::uint8_t>{0, 0, 0}));
}

TEST(DkimSignature, RemovesOnlyTheBValueForTheHeaderHash) {
    auto sig = parse_signature(" b=AAEC; bh=AAAA; v=1; a=rsa-sha256; d=a.example; s=s; h=from");
    ASSERT_TRUE(sig.has_value()) << sig.error();
    EXPECT_EQ(sig->value_without_b, " b=; bh=AAAA; v=1; a=rsa-sha256; d=a.example; s=s; h=from");
    auto last = parse_signature(kGood);
    ASSERT_TRUE(last.has_value());
    EXPECT_TRUE(last->value_without_b.ends_with("bh=AAAA; b="));
}

TEST(DkimSignature, DefaultsFollowRfc6376) {
    auto sig =
        parse_signature("v=1; a=ed25519-sha256; d=example.com; s=s; h=from; bh=AAAA; b=AAAA");
    ASSERT_TRUE(sig.has_value()) << sig.error();
    EXPECT_EQ(sig->algorithm, Algorithm::Ed25519Sha256);
    EXPECT_EQ(sig->header_canon, Canonicalization::Simple);
    EXPECT_EQ(sig->body_canon, Canonicalization::Simple);
    EXPECT_EQ(sig->identity, "@example.com");
    EXPECT_FALSE(sig->length.has_value());
    auto relaxed = parse_signature(
        "v=1; a=rsa-sha256; c=relaxed; d=example.com; s=s; h=from; bh=AAAA; b=AAAA");
    ASSERT_TRUE(relaxed.has_value());
    EXPECT_EQ(relaxed->header_canon, Canonicalization::Relaxed);
    EXPECT_EQ(relaxed->body_canon, Canonicalization::Simple);  // §3.5 c=: body defaults
}

TEST(DkimSignature, RejectsInvalidSignaturesWithAReason) {
    struct Case {
        std::string name;
        std::string value;
        std::string reason;
    };
    const std::string g(kGood);
    const Case cases[] = {
        {"no v", replace(g, "v=1; ", ""), "signature has no v= tag"},
        {"v=5", replace(g, "v=1", "v=5"), "unsupported signature version v=5"},
        {"rsa-md5", replace(g, "rsa-sha256", "rsa-md5"), "unsupported algorithm a=rsa-md5"},
        {"no bh", replace(g, "bh=AAAA; ", ""), "signature has no bh= tag"},
        {"b garbage", replace(g, "b=AAEC", "b=AA!C"), "b= is not valid base64"},
        {"b empty", replace(g, "b=AAEC\r\n\tAwQF", "b="), "b= is empty"},
        {"bh garbage", replace(g, "bh=AAAA", "bh=AAA"), "bh= is not valid base64"},
        {"c=future", replace(g, "c=relaxed/simple", "c=future"),
         "unsupported canonicalization c=future"},
        {"h without from", replace(g, "h=From:To:Subject", "h=To:Subject"),
         "h= does not include From"},
        {"h empty name", replace(g, "h=From:To:Subject", "h=From::Subject"),
         "h= has an empty or invalid header field name"},
        {"i outside d", replace(g, "i=joe@mail.example.com", "i=joe@example.org"),
         "i= domain example.org is not within d=example.com"},
        {"i suffix trick", replace(g, "i=joe@mail.example.com", "i=joe@badexample.com"),
         "i= domain badexample.com is not within d=example.com"},
        {"i no at", replace(g, "i=joe@mail.example.com", "i=joe"),
         "i= is not an identity (no @domain)"},
        {"q=http", replace(g, "q=dns/txt", "q=http"), "unsupported query method q=http"},
        {"q=dns/special", replace(g, "q=dns/txt", "q=dns/special"),
         "unsupported query method q=dns/special"},
        {"l not number", replace(g, "l=42", "l=4x"), "l= is not a number"},
        {"x before t", replace(g, "x=2000", "x=999"), "x= is before t="},
        {"t not number", replace(g, "t=1000", "t=-1"), "t= is not a number"},
        {"bad domain", replace(g, "d=Example.COM", "d=exa mple.com"),
         "d= is not a domain name (exa mple.com)"},
        {"control char in domain", replace(g, "d=Example.COM", "d=exa\x01mple.com"),
         "signature syntax error: tag 'd' has an invalid character in its value"},
        {"domain with empty label", replace(g, "d=Example.COM", "d=example..com"),
         "d= is not a domain name (example..com)"},
        {"duplicate tag", g + "; d=other.example", "signature syntax error: duplicate tag 'd'"},
        {"truncated", g.substr(0, 30), "signature has no b= tag"},
        {"truncated in a tag name", g.substr(0, 21), "signature syntax error: tag 'c' has no '='"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto sig = parse_signature(c.value);
        ASSERT_FALSE(sig.has_value());
        EXPECT_EQ(sig.error(), c.reason);
    }
}

TEST(DkimSignature, QuotedPrintableIdentityIsDecodedForTheDomainCheck) {
    auto sig = parse_signature(
        "v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; b=AAAA; i=j=3Do@example.com");
    ASSERT_TRUE(sig.has_value()) << sig.error();
    EXPECT_EQ(sig->identity, "j=3Do@example.com");
    EXPECT_EQ(sig->identity_domain, "example.com");
}

TEST(DkimSignature, HugeLengthSaturates) {
    auto sig = parse_signature(
        "v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; b=AAAA; "
        "l=99999999999999999999999999999999999999");
    ASSERT_TRUE(sig.has_value());
    EXPECT_EQ(*sig->length, std::numeric_limits<std::uint64_t>::max());
}

TEST(DkimSignature, ExpiryAndFutureTimestampHonourClockSkew) {
    auto sig = parse_signature(kGood);
    ASSERT_TRUE(sig.has_value());
    using std::chrono::seconds;
    const std::chrono::system_clock::time_point epoch{};
    EXPECT_EQ(check_times(*sig, epoch + seconds(1500), seconds(300)), "");
    EXPECT_EQ(check_times(*sig, epoch + seconds(2200), seconds(300)), "");  // within skew
    EXPECT_EQ(check_times(*sig, epoch + seconds(2301), seconds(300)),
              "signature expired at 1970-01-01T00:33:20Z");
    EXPECT_EQ(check_times(*sig, epoch + seconds(800), seconds(300)), "");  // within skew
    EXPECT_EQ(check_times(*sig, epoch + seconds(600), seconds(300)),
              "signature timestamp is in the future (1970-01-01T00:16:40Z)");
}

TEST(DkimSignature, PeekIdentityReadsBrokenSignatures) {
    const auto id = peek_identity(" d=Junk.Example; s=sel1; garbage; b=AB\r\n CD; a=rsa-sha1");
    EXPECT_EQ(id.domain, "junk.example");
    EXPECT_EQ(id.selector, "sel1");
    EXPECT_EQ(id.identity, "@junk.example");
    EXPECT_EQ(id.signature, "ABCD");
    EXPECT_EQ(id.algorithm, "rsa-sha1");
}

TEST(DkimBase64, DecodesStrictlyIgnoringFolding) {
    EXPECT_EQ(decode_base64("AQID"), (std::vector<std::uint8_t>{1, 2, 3}));
    EXPECT_EQ(decode_base64("AQ\r\n I="), (std::vector<std::uint8_t>{1, 2}));
    EXPECT_EQ(decode_base64("AQ=="), (std::vector<std::uint8_t>{1}));
    EXPECT_EQ(decode_base64(""), std::vector<std::uint8_t>{});
    EXPECT_FALSE(decode_base64("AQI").has_value());    // length
    EXPECT_FALSE(decode_base64("AQ=I").has_value());   // data after padding
    EXPECT_FALSE(decode_base64("AQ===").has_value());  // too much padding
    EXPECT_FALSE(decode_base64("A*ID").has_value());   // not the alphabet
    EXPECT_FALSE(decode_base64("AQID\x80").has_value());
}

}  // namespace
}  // namespace mailwarden::auth::dkim
