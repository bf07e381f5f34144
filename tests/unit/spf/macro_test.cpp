// macro_test.cpp - SPF macro expansion (RFC 7208 §7), including the §7.4 examples.
#include "auth/spf/macro.hpp"

#include <gtest/gtest.h>

#include "support/matchers.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::spf {
namespace {

using testing::HasError;
using testing::IsOkAndHolds;

MacroContext rfc_context(const char* ip) {
    MacroContext c;
    c.ip = *util::IpAddress::parse(ip);
    c.sender = "strong@example.com";
    c.local_part = "strong";
    c.sender_domain = "example.com";
    c.domain = "email.example.com";
    c.helo = "mx.example.org";
    c.receiver = "mx.receiver.example";
    c.timestamp = 1700000000;
    return c;
}

TEST(Macro, Rfc7208Section74Examples) {
    const auto c = rfc_context("192.0.2.3");  // <domain> is email.example.com, as in §7.4
    struct Case {
        const char* in;
        const char* out;
    };
    const Case cases[] = {
        {"%{s}", "strong@example.com"},
        {"%{o}", "example.com"},
        {"%{d}", "email.example.com"},
        {"%{d4}", "email.example.com"},
        {"%{d3}", "email.example.com"},
        {"%{d2}", "example.com"},
        {"%{d1}", "com"},
        {"%{dr}", "com.example.email"},
        {"%{d2r}", "example.email"},
        {"%{l}", "strong"},
        {"%{l-}", "strong"},
        {"%{lr}", "strong"},
        {"%{lr-}", "strong"},
        {"%{l1r-}", "strong"},
        {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
        {"%{lr-}.lp._spf.%{d2}", "strong.lp._spf.example.com"},
        {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "strong.lp.3.2.0.192.in-addr._spf.example.com"},
        {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
        {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
        {"%{h}", "mx.example.org"},
        {"a%%b%_c%-d", "a%b c%20d"},
    };
    for (const auto& x : cases) {
        SCOPED_TRACE(x.in);
        EXPECT_THAT(expand(x.in, c, MacroMode::DomainSpec), IsOkAndHolds(std::string(x.out)));
    }
}

TEST(Macro, Ipv6UsesDottedNibbles) {
    auto c = rfc_context("2001:db8::cb01");
    c.domain = "example.com";
    const auto out = expand("%{ir}.%{v}._spf.%{d2}", c, MacroMode::DomainSpec);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(
        util::to_lower(*out),
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
    EXPECT_THAT(expand("%{c}", c, MacroMode::Explanation),
                IsOkAndHolds(std::string("2001:db8::cb01")));
}

TEST(Macro, ExplanationOnlyLettersAndUrlEscaping) {
    auto c = rfc_context("192.0.2.3");
    EXPECT_THAT(expand("%{c} %{r} %{t}", c, MacroMode::Explanation),
                IsOkAndHolds(std::string("192.0.2.3 mx.receiver.example 1700000000")));
    EXPECT_THAT(expand("%{r}", c, MacroMode::DomainSpec), HasError(util::ErrorCode::InvalidInput));
    c.local_part = "~jack&jill=up-a_b3.c";
    EXPECT_THAT(expand("l=%{L}", c, MacroMode::Explanation),
                IsOkAndHolds(std::string("l=~jack%26jill%3Dup-a_b3.c")));
}

TEST(Macro, DelimitersSplitAndJoinWithDots) {
    auto c = rfc_context("192.0.2.3");
    c.local_part = "foo-bar+zip+quux";
    EXPECT_THAT(expand("%{l2r+-}", c, MacroMode::DomainSpec), IsOkAndHolds(std::string("bar.foo")));
    EXPECT_THAT(expand("%{l+}", c, MacroMode::DomainSpec),
                IsOkAndHolds(std::string("foo-bar.zip.quux")));
    EXPECT_THAT(expand("%{d999}", c, MacroMode::DomainSpec),
                IsOkAndHolds(std::string("email.example.com")));
}

TEST(Macro, SyntaxErrors) {
    const auto c = rfc_context("192.0.2.3");
    for (const char* bad :
         {"%", "foo%", "%x", "%{", "%{d", "%{}", "%{z}", "%{d0}", "%{d*}", "%{dr2}", "a b"}) {
        SCOPED_TRACE(bad);
        EXPECT_THAT(expand(bad, c, MacroMode::DomainSpec), HasError(util::ErrorCode::InvalidInput));
        EXPECT_THAT(validate_macro_string(bad, MacroMode::DomainSpec),
                    HasError(util::ErrorCode::InvalidInput));
    }
    EXPECT_TRUE(validate_macro_string("a b %{c}", MacroMode::Explanation).has_value());
}

TEST(Macro, PIsComputedLazilyAndOnce) {
    auto c = rfc_context("192.0.2.3");
    int calls = 0;
    c.validated_domain = [&] {
        ++calls;
        return std::string("mx.example.com");
    };
    EXPECT_THAT(expand("%{d}", c, MacroMode::DomainSpec),
                IsOkAndHolds(std::string("email.example.com")));
    EXPECT_EQ(calls, 0);
    EXPECT_THAT(expand("%{p}.%{p2}", c, MacroMode::DomainSpec),
                IsOkAndHolds(std::string("mx.example.com.example.com")));
    EXPECT_EQ(calls, 1);
}

TEST(Macro, OutputIsBoundedAndDomainsAreTruncatedFromTheLeft) {
    auto c = rfc_context("192.0.2.3");
    const std::string long_local(3000, 'x');
    c.local_part = long_local;
    EXPECT_THAT(expand("%{l}%{l}%{l}", c, MacroMode::DomainSpec),
                HasError(util::ErrorCode::InvalidInput));
    std::string name;
    for (int i = 0; i < 40; ++i) {
        name += "label" + std::to_string(i) + ".";
    }
    name += "example.com";
    ASSERT_GT(name.size(), kMaxDomainOctets);
    const std::string cut = truncate_domain(name);
    EXPECT_LE(cut.size(), kMaxDomainOctets);
    EXPECT_TRUE(name.ends_with(cut));
    EXPECT_EQ(name[name.size() - cut.size() - 1], '.');  // cut at a label boundary
    EXPECT_EQ(truncate_domain(std::string(300, 'a')), "");
}

}  // namespace
}  // namespace mailwarden::auth::spf
