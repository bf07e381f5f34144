// record_test.cpp - SPF record selection and parsing (RFC 7208 §4.5, §12).
#include "auth/spf/record.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailwarden::auth::spf {
namespace {

TEST(IsSpfRecord, NeedsVersionThenSpaceOrEnd) {
    EXPECT_TRUE(is_spf_record("v=spf1"));
    EXPECT_TRUE(is_spf_record("V=SPF1 -all"));
    EXPECT_FALSE(is_spf_record("v=spf10 -all"));
    EXPECT_FALSE(is_spf_record("v=spf1-all"));
    EXPECT_FALSE(is_spf_record(" v=spf1 -all"));
    EXPECT_FALSE(is_spf_record("spf2.0/pra -all"));
    EXPECT_FALSE(is_spf_record(""));
}

TEST(ParseRecord, ReadsEveryMechanismAndModifier) {
    const auto record = parse_record(
        "v=spf1 +a -mx:mail.example.com/24//64 ~ptr ?ip4:192.0.2.0/24 ip6:2001:DB8::/32 "
        "include:_spf.example.net exists:%{ir}.bl.example.org all "
        "redirect=other.example exp=why.%{d} future-mod=%{d}");
    ASSERT_TRUE(record.has_value()) << record.error().describe();
    ASSERT_EQ(record->mechanisms.size(), 8u);
    const auto& m = record->mechanisms;
    EXPECT_EQ(m[0].kind, MechanismKind::A);
    EXPECT_EQ(m[0].qualifier, Qualifier::Pass);
    EXPECT_EQ(m[1].kind, MechanismKind::Mx);
    EXPECT_EQ(m[1].qualifier, Qualifier::Fail);
    EXPECT_EQ(m[1].domain_spec, "mail.example.com");
    EXPECT_EQ(m[1].cidr4, 24);
    EXPECT_EQ(m[1].cidr6, 64);
    EXPECT_EQ(m[2].kind, MechanismKind::Ptr);
    EXPECT_EQ(m[2].qualifier, Qualifier::SoftFail);
    EXPECT_EQ(m[3].network->to_string(), "192.0.2.0/24");
    EXPECT_EQ(m[3].qualifier, Qualifier::Neutral);
    EXPECT_EQ(m[4].network->to_string(), "2001:db8::/32");
    EXPECT_EQ(m[5].domain_spec, "_spf.example.net");
    EXPECT_EQ(m[6].domain_spec, "%{ir}.bl.example.org");
    EXPECT_EQ(m[7].kind, MechanismKind::All);
    EXPECT_EQ(m[7].text, "all");
    EXPECT_EQ(record->redirect, "other.example");
    EXPECT_EQ(record->exp, "why.%{d}");
    ASSERT_EQ(record->unknown_modifiers.size(), 1u);
}

TEST(ParseRecord, ToleratesExtraSpacesAndCase) {
    const auto record = parse_record("v=spf1   IP4:192.0.2.1   MX  -ALL  ");
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->mechanisms.size(), 3u);
    EXPECT_EQ(record->mechanisms[0].network->prefix_length(), 32);
}

TEST(ParseRecord, RejectsSyntaxErrorsNamingTheTerm) {
    struct Case {
        const char* record;
        const char* term;
    };
    const Case cases[] = {
        {"v=spf1 foo", "foo"},        // unknown mechanism
        {"v=spf1 -all:x", "-all:x"},  // all takes no argument
        {"v=spf1 ip4:192.0.2.1/33", "ip4:192.0.2.1/33"},
        {"v=spf1 ip4:192.0.2.1/032", "ip4:192.0.2.1/032"},
        {"v=spf1 ip4:192.0.2", "ip4:192.0.2"},
        {"v=spf1 ip4:2001:db8::1", "ip4:2001:db8::1"},
        {"v=spf1 ip4:[192.0.2.1]", "ip4:[192.0.2.1]"},
        {"v=spf1 ip6:192.0.2.1", "ip6:192.0.2.1"},
        {"v=spf1 ip6:2001:db8::/129", "ip6:2001:db8::/129"},
        {"v=spf1 ip6", "ip6"},
        {"v=spf1 a/33", "a/33"},
        {"v=spf1 a//129", "a//129"},
        {"v=spf1 a:", "a:"},
        {"v=spf1 a:museum", "a:museum"},
        {"v=spf1 a:example.123", "a:example.123"},
        {"v=spf1 a:example.com:8080", "a:example.com:8080"},
        {"v=spf1 mx:foo.-com", "mx:foo.-com"},
        {"v=spf1 include", "include"},
        {"v=spf1 include:example.com/24", "include:example.com/24"},
        {"v=spf1 exists", "exists"},
        {"v=spf1 ptr/24", "ptr/24"},
        {"v=spf1 exists:%{x}.example.com", "exists:%{x}.example.com"},
        {"v=spf1 exists:%{d0}.example.com", "exists:%{d0}.example.com"},
        {"v=spf1 exists:%.example.com", "exists:%.example.com"},
        {"v=spf1 exists:%{c}.example.com", "exists:%{c}.example.com"},  // exp-only letter
        {"v=spf1 redirect=a.example redirect=b.example", "redirect=b.example"},
        {"v=spf1 exp=a.example exp=b.example", "exp=b.example"},
        {"v=spf1 redirect=", "redirect="},
        {"v=spf1 exp=-all", "exp=-all"},
        {"v=spf1 =foo", "=foo"},
        {"v=spf1 1x=foo", "1x=foo"},
        {"v=spf1 x=%z", "x=%z"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.record);
        const auto record = parse_record(c.record);
        ASSERT_FALSE(record.has_value());
        EXPECT_EQ(record.error().term, c.term);
        EXPECT_FALSE(record.error().reason.empty());
    }
}

TEST(ParseRecord, RejectsNonAsciiControlCharactersAndHugeInput) {
    EXPECT_FALSE(parse_record("v=spf1 a:caf\xc3\xa9.example -all").has_value());
    EXPECT_FALSE(parse_record(std::string("v=spf1 a\0 -all", 14)).has_value());
    EXPECT_FALSE(parse_record("v=spf1\t-all").has_value());
    std::string huge = "v=spf1";
    while (huge.size() <= kMaxRecordOctets) {
        huge += " ip4:192.0.2.1";
    }
    EXPECT_FALSE(parse_record(huge).has_value());
    std::string many = "v=spf1";
    for (std::size_t i = 0; i <= kMaxTerms; ++i) {
        many += " a";
    }
    const auto too_many = parse_record(many);
    ASSERT_FALSE(too_many.has_value());
    EXPECT_NE(too_many.error().reason.find("terms"), std::string::npos);
}

TEST(DomainSpec, EndsInToplabelOrMacro) {
    EXPECT_TRUE(is_valid_domain_spec("example.com"));
    EXPECT_TRUE(is_valid_domain_spec("example.com."));
    EXPECT_TRUE(is_valid_domain_spec("foo.xn--zckzah"));
    EXPECT_TRUE(is_valid_domain_spec("foo.example-1"));
    EXPECT_TRUE(is_valid_domain_spec("%{d}"));
    EXPECT_TRUE(is_valid_domain_spec("_spf.%{d2}"));
    EXPECT_TRUE(is_valid_domain_spec("a%-"));
    EXPECT_FALSE(is_valid_domain_spec("com"));
    EXPECT_FALSE(is_valid_domain_spec("com."));
    EXPECT_FALSE(is_valid_domain_spec("example.123"));
    EXPECT_FALSE(is_valid_domain_spec("example.com-"));
    EXPECT_FALSE(is_valid_domain_spec(""));
}

}  // namespace
}  // namespace mailwarden::auth::spf
