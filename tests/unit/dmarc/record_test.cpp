// record_test.cpp - DMARC policy record parsing (RFC 9989 §4.7, §4.8, Appendix A.6).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "auth/dmarc/evaluator.hpp"

namespace mailwarden::auth::dmarc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseRecord, ReadsEveryTag) {
    const auto r = parse_record(
        "v=DMARC1; p=reject; sp=quarantine; np=none; adkim=s; aspf=s; t=y; psd=n; "
        "rua=mailto:agg@example.com, mailto:agg2@example.net!10m; ruf=mailto:f@example.com; "
        "fo=1; ri=3600; rf=afrf");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->p, Policy::Reject);
    EXPECT_EQ(r->sp, Policy::Quarantine);
    EXPECT_EQ(r->np, Policy::None);
    EXPECT_TRUE(r->adkim_strict);
    EXPECT_TRUE(r->aspf_strict);
    EXPECT_TRUE(r->testing);
    EXPECT_EQ(r->psd, 'n');
    EXPECT_THAT(r->rua, ElementsAre("mailto:agg@example.com", "mailto:agg2@example.net"));
    EXPECT_THAT(r->ruf, ElementsAre("mailto:f@example.com"));
    EXPECT_TRUE(r->policy_valid);
    EXPECT_FALSE(r->pct.has_value());
}

TEST(ParseRecord, DefaultsFollowRfc9989) {
    const auto r = parse_record("v=DMARC1; p=none");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->p, Policy::None);
    EXPECT_FALSE(r->sp.has_value());
    EXPECT_FALSE(r->np.has_value());
    EXPECT_FALSE(r->adkim_strict);
    EXPECT_FALSE(r->aspf_strict);
    EXPECT_FALSE(r->testing);
    EXPECT_EQ(r->psd, 'u');
    EXPECT_TRUE(r->rua.empty());
    EXPECT_EQ(r->text, "v=DMARC1; p=none");
}

TEST(ParseRecord, VersionMustComeFirstAndBeExactlyDmarc1) {
    std::string error;
    EXPECT_FALSE(parse_record("p=reject; v=DMARC1", &error).has_value());
    EXPECT_THAT(error, HasSubstr("v=DMARC1 must come first"));
    EXPECT_FALSE(parse_record("v=dmarc1; p=reject", &error).has_value());
    EXPECT_THAT(error, HasSubstr("not DMARC1"));
    EXPECT_FALSE(parse_record("v=DMARC2; p=reject", &error).has_value());
    EXPECT_FALSE(parse_record("v=spf1 -all", &error).has_value());
    EXPECT_FALSE(parse_record("", &error).has_value());
    EXPECT_FALSE(parse_record("hello world", &error).has_value());
    // Whitespace around '=' and ';' is allowed (RFC 9989 §4.8 equals, dmarc-sep).
    EXPECT_TRUE(parse_record("v = DMARC1 ;p = reject ;").has_value());
    EXPECT_TRUE(parse_record("V=DMARC1; P=Reject").has_value());
    EXPECT_EQ(parse_record("V=DMARC1; P=Reject")->p, Policy::Reject);
}

TEST(ParseRecord, IgnoresUnknownTagsAndSyntaxErrors) {
    const auto r = parse_record("v=DMARC1; p=none; reject; future=1; =x; 9x=1; adkim=q; t=maybe");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->p, Policy::None);
    EXPECT_TRUE(r->policy_valid);
    EXPECT_FALSE(r->adkim_strict);
    EXPECT_FALSE(r->testing);
}

TEST(ParseRecord, RepeatedTagKeepsTheFirstValue) {
    const auto r = parse_record("v=DMARC1; p=reject; p=none");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->p, Policy::Reject);
}

TEST(ParseRecord, MissingOrInvalidPolicyIsFlagged) {
    // RFC 9989 §4.10.1: the evaluator reads these as p=none when rua= is valid.
    for (const char* text :
         {"v=DMARC1", "v=DMARC1; p=block; rua=mailto:a@example.com", "v=DMARC1; p=reject; sp=maybe",
          "v=DMARC1; p=reject; np=x", "v=DMARC1; sp=quarantine; np=reject"}) {
        SCOPED_TRACE(text);
        const auto r = parse_record(text);
        ASSERT_TRUE(r.has_value());
        EXPECT_FALSE(r->policy_valid);
        EXPECT_EQ(r->p, Policy::None);
        EXPECT_FALSE(r->sp.has_value());
        EXPECT_FALSE(r->np.has_value());
    }
}

TEST(ParseRecord, ReadsRfc7489PctAsRfc9989Testing) {
    // Appendix A.6: t=y and t=n are "analogous to" pct=0 and pct=100.
    EXPECT_TRUE(parse_record("v=DMARC1; p=reject; pct=0")->testing);
    EXPECT_EQ(parse_record("v=DMARC1; p=reject; pct=0")->pct, 0);
    EXPECT_FALSE(parse_record("v=DMARC1; p=reject; pct=100")->testing);
    // A partial rollout is still testing.
    EXPECT_TRUE(parse_record("v=DMARC1; p=reject; pct=50")->testing);
    // An explicit t= wins over pct=.
    EXPECT_FALSE(parse_record("v=DMARC1; p=reject; pct=0; t=n")->testing);
    EXPECT_TRUE(parse_record("v=DMARC1; p=reject; t=y; pct=100")->testing);
    // Garbage pct is ignored.
    EXPECT_FALSE(parse_record("v=DMARC1; p=reject; pct=abc")->testing);
    EXPECT_FALSE(parse_record("v=DMARC1; p=reject; pct=200")->testing);
    EXPECT_FALSE(parse_record("v=DMARC1; p=reject; pct=-1")->pct.has_value());
}

TEST(ParseRecord, KeepsOnlyWellFormedReportUris) {
    const auto r = parse_record(
        "v=DMARC1; p=none; rua=mailto:a@example.com,not a uri, :nothing, https://r.example/x "
        ",mailto:b@example.com!20k");
    ASSERT_TRUE(r.has_value());
    EXPECT_THAT(r->rua,
                ElementsAre("mailto:a@example.com", "https://r.example/x", "mailto:b@example.com"));
}

TEST(ParseRecord, SurvivesGarbage) {
    const char* garbage[] = {
        "v=DMARC1;;;;;;;;",
        "v=DMARC1; p",
        "v=DMARC1; p=",
        "v=DMARC1; ====",
        "v=DMARC1; p=reject\x01; sp=\xff\xfe",
        "v=DMARC1; rua=,,,,",
        "v=DMARC1\0; p=reject",
    };
    for (const char* text : garbage) {
        SCOPED_TRACE(text);
        const auto r = parse_record(text);
        ASSERT_TRUE(r.has_value());
        EXPECT_FALSE(r->policy_valid);
    }
    std::string huge = "v=DMARC1; p=reject";
    while (huge.size() < 1024 * 1024) {
        huge += "; x=yyyyyyyyyyyyyyyy";
    }
    EXPECT_EQ(parse_record(huge)->p, Policy::Reject);
}

TEST(ResultNames, AreTheRfc8601Words) {
    EXPECT_EQ(to_string(Result::None), "none");
    EXPECT_EQ(to_string(Result::Pass), "pass");
    EXPECT_EQ(to_string(Result::Fail), "fail");
    EXPECT_EQ(to_string(Result::TempError), "temperror");
    EXPECT_EQ(to_string(Result::PermError), "permerror");
    EXPECT_EQ(to_string(Policy::Quarantine), "quarantine");
}

}  // namespace
}  // namespace mailwarden::auth::dmarc
