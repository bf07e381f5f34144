// results_test.cpp - the Authentication-Results value (RFC 8601) and authserv-id matching.
#include "auth/results.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailwarden::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> lines_of(const std::string& value) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (true) {
        const auto crlf = value.find("\r\n", start);
        lines.push_back(
            value.substr(start, crlf == std::string::npos ? std::string::npos : crlf - start));
        if (crlf == std::string::npos) {
            return lines;
        }
        start = crlf + 2;
    }
}

/// Every line short enough (or a single unbreakable atom), every continuation line starting
/// with a tab, no bare CR or LF.
void expect_well_folded(const std::string& value) {
    const auto lines = lines_of(value);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        SCOPED_TRACE(lines[i]);
        if (lines[i].size() + (i == 0 ? 24 : 0) > 78u) {
            EXPECT_EQ(lines[i].find(' '), std::string::npos) << "foldable line too long";
        }
        EXPECT_EQ(lines[i].find_first_of("\r\n"), std::string::npos);
        if (i > 0) {
            ASSERT_FALSE(lines[i].empty());
            EXPECT_EQ(lines[i][0], '\t');
        }
    }
}

spf::Outcome spf_outcome(spf::Result result, std::string sender) {
    spf::Outcome o;
    o.result = result;
    o.identity = spf::Identity::MailFrom;
    o.sender = std::move(sender);
    o.domain = o.sender.substr(o.sender.find('@') + 1);
    return o;
}

dkim::SignatureResult signature(dkim::Result result, std::string d, std::string s, std::string b,
                                std::string reason = "") {
    dkim::SignatureResult sig;
    sig.result = result;
    sig.domain = std::move(d);
    sig.selector = std::move(s);
    sig.signature = std::move(b);
    sig.reason = std::move(reason);
    return sig;
}

dmarc::Outcome dmarc_outcome(dmarc::Result result, dmarc::Policy p, dmarc::Policy disposition,
                             std::string from) {
    dmarc::Outcome o;
    o.result = result;
    o.header_from = std::move(from);
    dmarc::Record record;
    record.p = p;
    o.record = record;
    o.policy = p;
    o.policy_tag = "p";
    o.disposition = disposition;
    return o;
}

TEST(FormatAuthenticationResults, WritesTheDocumentedShape) {
    AuthSummary summary;
    summary.spf = spf_outcome(spf::Result::Pass, "a@example.com");
    const std::vector<dkim::SignatureResult> sigs{
        signature(dkim::Result::Pass, "example.com", "s1", "AbCdEfGhIjKlMnOp")};
    summary.dkim = sigs;
    summary.dkim_evaluated = true;
    summary.dmarc = dmarc_outcome(dmarc::Result::Pass, dmarc::Policy::Reject, dmarc::Policy::None,
                                  "example.com");
    EXPECT_EQ(format_authentication_results("mx.example.org", summary),
              "mx.example.org;\r\n\tspf=pass smtp.mailfrom=a@example.com;\r\n"
              "\tdkim=pass header.d=example.com header.s=s1 header.b=AbCdEfGh;\r\n"
              "\tdmarc=pass (p=reject) header.from=example.com policy.dmarc=reject");
}

TEST(FormatAuthenticationResults, NothingEvaluatedIsNone) {
    EXPECT_EQ(format_authentication_results("mx.example.org", AuthSummary{}),
              "mx.example.org; none");
    AuthSummary no_signatures;
    no_signatures.dkim_evaluated = true;
    EXPECT_EQ(format_authentication_results("mx.example.org", no_signatures),
              "mx.example.org;\r\n\tdkim=none");
}

TEST(FormatAuthenticationResults, DmarcFailureShowsPolicyAndDisposition) {
    AuthSummary summary;
    auto d = dmarc_outcome(dmarc::Result::Fail, dmarc::Policy::Reject, dmarc::Policy::Quarantine,
                           "bank.example");
    d.record->testing = true;
    summary.dmarc = d;
    EXPECT_EQ(format_authentication_results("mx", summary),
              "mx;\r\n\tdmarc=fail (p=reject dis=quarantine) header.from=bank.example\r\n"
              "\tpolicy.dmarc=quarantine");

    auto sub = dmarc_outcome(dmarc::Result::Fail, dmarc::Policy::None, dmarc::Policy::Reject,
                             "www.bank.example");
    sub.policy = dmarc::Policy::Reject;
    sub.policy_tag = "sp";
    summary.dmarc = sub;
    const auto value = format_authentication_results("mx", summary);
    EXPECT_THAT(value, HasSubstr("dmarc=fail (p=none sp=reject dis=reject) "
                                 "header.from=www.bank.example"));
    EXPECT_THAT(value, HasSubstr("policy.dmarc=reject"));
    expect_well_folded(value);
}

TEST(FormatAuthenticationResults, ErrorsAndNoneCarryNoPolicy) {
    AuthSummary summary;
    dmarc::Outcome none;
    none.header_from = "example.net";
    summary.dmarc = none;
    EXPECT_EQ(format_authentication_results("mx", summary),
              "mx;\r\n\tdmarc=none header.from=example.net");

    dmarc::Outcome perm;
    perm.result = dmarc::Result::PermError;
    perm.reason = "From: (names) no \\ mailbox\r\n";
    summary.dmarc = perm;
    EXPECT_EQ(format_authentication_results("mx", summary),
              "mx;\r\n\tdmarc=permerror (From: [names] no ? mailbox)");
}

TEST(FormatAuthenticationResults, DkimFailureReasonIsASanitizedComment) {
    AuthSummary summary;
    const std::vector<dkim::SignatureResult> sigs{
        signature(dkim::Result::Fail, "example.com", "sel", "abcdefghij",
                  "body hash (bh=) did not verify\r\nX-Injected: yes; dkim=pass"),
        signature(dkim::Result::PermError, "ex\"am(ple).com", "s;1", "zz/+==", "bad\\key")};
    summary.dkim = sigs;
    const auto value = format_authentication_results("mx.example.org", summary);
    EXPECT_THAT(value, HasSubstr("dkim=fail (body hash [bh=] did not verify X-Injected: yes, "));
    EXPECT_THAT(value, Not(HasSubstr("\r\nX-Injected")));
    EXPECT_THAT(value, HasSubstr("dkim=permerror (bad?key) header.d=\"ex\\\"am(ple).com\""));
    EXPECT_THAT(value, HasSubstr("header.s=\"s;1\""));
    EXPECT_THAT(value, HasSubstr("header.b=\"zz/+==\""));
    expect_well_folded(value);
}

TEST(FormatAuthenticationResults, DropsValuesThatCannotBeWrittenSafely) {
    AuthSummary summary;
    summary.spf = spf_outcome(spf::Result::Fail, "bad\x01user@example.com");
    const std::vector<dkim::SignatureResult> sigs{
        signature(dkim::Result::Pass, "b\xc3\xa4r.example", "s1", "")};
    summary.dkim = sigs;
    const auto value = format_authentication_results("mx", summary);
    EXPECT_EQ(value, "mx;\r\n\tspf=fail;\r\n\tdkim=pass header.s=s1");
}

TEST(FormatAuthenticationResults, QuotesSendersThatAreNotPlainAddresses) {
    AuthSummary summary;
    summary.spf = spf_outcome(spf::Result::Pass, "\"john doe\"@example.com");
    EXPECT_EQ(format_authentication_results("mx", summary),
              "mx;\r\n\tspf=pass smtp.mailfrom=\"\\\"john doe\\\"@example.com\"");
    spf::Outcome helo;
    helo.result = spf::Result::None;
    helo.identity = spf::Identity::Helo;
    helo.domain = "mail.example.com";
    summary.spf = helo;
    EXPECT_EQ(format_authentication_results("mx", summary),
              "mx;\r\n\tspf=none smtp.helo=mail.example.com");
}

TEST(FormatAuthenticationResults, HeaderBIsLongEnoughToTellSignaturesApart) {
    AuthSummary summary;
    const std::vector<dkim::SignatureResult> sigs{
        signature(dkim::Result::Pass, "a.example", "s", "SAMEPREFIXaaaa"),
        signature(dkim::Result::Pass, "a.example", "s", "SAMEPREFIXbbbb"),
        signature(dkim::Result::Pass, "b.example", "s", "Other123456")};
    summary.dkim = sigs;
    const auto value = format_authentication_results("mx", summary);
    EXPECT_THAT(value, HasSubstr("header.b=SAMEPREFIXa;"));
    EXPECT_THAT(value, HasSubstr("header.b=SAMEPREFIXb;"));
    EXPECT_TRUE(value.ends_with("header.b=Other123")) << value;
}

TEST(FormatAuthenticationResults, FoldsLongResultsAt78Columns) {
    AuthSummary summary;
    summary.spf = spf_outcome(
        spf::Result::Pass, "a-very-long-local-part-for-testing@bounces.a-long-domain.example.com");
    std::vector<dkim::SignatureResult> sigs;
    for (int i = 0; i < 20; ++i) {
        sigs.push_back(signature(dkim::Result::Fail,
                                 "subdomain" + std::to_string(i) + ".a-long-domain.example.com",
                                 "selector-2026-" + std::to_string(i), "QUJDREVGR0hJSktM",
                                 "signature did not verify (key " + std::to_string(i) + ")"));
    }
    summary.dkim = sigs;
    summary.dmarc = dmarc_outcome(dmarc::Result::Fail, dmarc::Policy::Reject, dmarc::Policy::Reject,
                                  "a-long-domain.example.com");
    expect_well_folded(format_authentication_results("mx.example.org", summary));
}

TEST(FormatAuthenticationResults, QuotesAnAuthservIdThatIsNoToken) {
    EXPECT_EQ(format_authentication_results("my server", AuthSummary{}), "\"my server\"; none");
}

TEST(AuthservIdOf, ParsesTheRfc8601Forms) {
    EXPECT_EQ(authserv_id_of("mx.example.org; spf=pass"), "mx.example.org");
    EXPECT_EQ(authserv_id_of("  (comment (nested)) mx.example.org 1; none"), "mx.example.org");
    EXPECT_EQ(authserv_id_of("\r\n\tmx.example.org(c);dkim=pass"), "mx.example.org");
    EXPECT_EQ(authserv_id_of("\"mx.example.org\"; none"), "mx.example.org");
    EXPECT_EQ(authserv_id_of("\"my \\\"odd\\\" id\"; none"), "my \"odd\" id");
    EXPECT_EQ(authserv_id_of("mx.example.org"), "mx.example.org");  // malformed, still ours
    EXPECT_EQ(authserv_id_of(""), std::nullopt);
    EXPECT_EQ(authserv_id_of("   (only a comment)  "), std::nullopt);
    EXPECT_EQ(authserv_id_of("(unterminated mx.example.org; none"), std::nullopt);
    EXPECT_EQ(authserv_id_of("\"unterminated; none"), std::nullopt);
    EXPECT_EQ(authserv_id_of("; spf=pass"), std::nullopt);
}

TEST(ClaimsAuthservId, ComparesCaseInsensitively) {
    EXPECT_TRUE(claims_authserv_id("MX.Example.ORG; spf=pass", "mx.example.org"));
    EXPECT_TRUE(claims_authserv_id("(forged) mx.example.org 1; dkim=pass", "MX.EXAMPLE.ORG"));
    EXPECT_FALSE(claims_authserv_id("mx.example.org.evil; spf=pass", "mx.example.org"));
    EXPECT_FALSE(claims_authserv_id("other.example; spf=pass", "mx.example.org"));
    EXPECT_FALSE(claims_authserv_id("", "mx.example.org"));
}

TEST(FormatAuthenticationResults, RoundTripsThroughAuthservIdOf) {
    AuthSummary summary;
    summary.spf = spf_outcome(spf::Result::Pass, "a@example.com");
    const auto value = format_authentication_results("mx.example.org", summary);
    EXPECT_TRUE(claims_authserv_id(value, "mx.example.org"));
}

}  // namespace
}  // namespace mailwarden::auth
