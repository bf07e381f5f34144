// evaluator_test.cpp - DMARC evaluation over a StaticResolver: policy discovery by the RFC
// 9989 DNS tree walk, organizational domains, alignment, p/sp/np/t, DNS failures, the PSL
// method, and the bounds on DNS work.
#include "auth/dmarc/evaluator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dns/static_resolver.hpp"
#include "support/temp_dir.hpp"

namespace mailwarden::auth::dmarc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

/// The _dmarc TXT names queried, in order.
std::vector<std::string> dmarc_queries(const dns::StaticResolver& zone) {
    std::vector<std::string> names;
    for (const auto& q : zone.queries()) {
        if (q.type == dns::RecordType::Txt && q.name.starts_with("_dmarc.")) {
            names.push_back(q.name.substr(7));
        }
    }
    return names;
}

SpfInput spf_pass(std::string domain) {
    return SpfInput{spf::Result::Pass, std::move(domain)};
}

DkimInput dkim_pass(std::string domain, std::string selector = "s1") {
    return DkimInput{dkim::Result::Pass, std::move(domain), std::move(selector)};
}

class DmarcEvaluator : public ::testing::Test {
  protected:
    Evaluator make(Options options = {}) {
        std::string error;
        auto evaluator = Evaluator::create(zone_, std::move(options), &error);
        EXPECT_TRUE(evaluator.has_value()) << error;
        return std::move(*evaluator);
    }

    Outcome run(std::string_view author, SpfInput spf = {}, std::vector<DkimInput> dkim = {}) {
        zone_.clear_log();
        return make().evaluate(author, spf, dkim);
    }

    dns::StaticResolver zone_;
};

TEST_F(DmarcEvaluator, PassesOnAnAlignedSpfPass) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=reject");
    const auto strict = run("bank.example", spf_pass("bank.example"));
    EXPECT_EQ(strict.result, Result::Pass);
    EXPECT_TRUE(strict.spf_aligned);
    EXPECT_EQ(strict.policy, Policy::Reject);
    EXPECT_EQ(strict.disposition, Policy::None);
    EXPECT_EQ(strict.policy_domain, "bank.example");
    EXPECT_EQ(strict.org_domain, "bank.example");
    EXPECT_EQ(strict.header_from, "bank.example");

    const auto relaxed = run("Bank.Example.", spf_pass("bounces.bank.example"));
    EXPECT_EQ(relaxed.result, Result::Pass) << relaxed.reason;
    EXPECT_THAT(relaxed.reason, HasSubstr("SPF passed for bounces.bank.example"));
}

TEST_F(DmarcEvaluator, FailureReasonSaysWhatFailedInPlainWords) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=reject");
    const auto out =
        run("bank.example", spf_pass("mail.other.example"),
            {DkimInput{dkim::Result::Fail, "bank.example", "s1"}, dkim_pass("other.example")});
    EXPECT_EQ(out.result, Result::Fail);
    EXPECT_EQ(out.disposition, Policy::Reject);
    EXPECT_EQ(out.policy_tag, "p");
    EXPECT_THAT(out.reason, HasSubstr("bank.example publishes p=reject"));
    EXPECT_THAT(out.reason, HasSubstr("SPF passed for mail.other.example, which is not aligned "
                                      "with bank.example"));
    EXPECT_THAT(out.reason, HasSubstr("no DKIM signature from bank.example verified"));
    EXPECT_THAT(out.reason, HasSubstr("d=bank.example fail"));
    EXPECT_THAT(out.reason, HasSubstr("d=other.example verified but is not aligned"));
}

TEST_F(DmarcEvaluator, StrictAlignmentNeedsIdenticalDomains) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=quarantine; adkim=s; aspf=s");
    EXPECT_EQ(run("bank.example", spf_pass("mail.bank.example")).result, Result::Fail);
    EXPECT_EQ(run("bank.example", {}, {dkim_pass("mail.bank.example")}).result, Result::Fail);
    const auto pass = run("bank.example", {}, {dkim_pass("BANK.example", "sel")});
    EXPECT_EQ(pass.result, Result::Pass);
    EXPECT_TRUE(pass.dkim_aligned);
    EXPECT_EQ(pass.aligned_dkim_domain, "bank.example");
    EXPECT_THAT(pass.reason, HasSubstr("d=bank.example s=sel"));
}

TEST_F(DmarcEvaluator, OnlyPassingIdentifiersCount) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=reject");
    EXPECT_EQ(run("bank.example", SpfInput{spf::Result::SoftFail, "bank.example"}).result,
              Result::Fail);
    EXPECT_EQ(
        run("bank.example", {}, {DkimInput{dkim::Result::PermError, "bank.example", "s"}}).result,
        Result::Fail);
}

TEST_F(DmarcEvaluator, SubdomainsGetSpAndNonExistentOnesNp) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=reject; sp=quarantine; np=none");
    zone_.add_a("www.bank.example", *util::IpAddress::parse("192.0.2.1"));
    zone_.add_mx("mail.bank.example", 10, "mx.bank.example");  // exists through MX only

    const auto www = run("www.bank.example");
    EXPECT_EQ(www.result, Result::Fail);
    EXPECT_EQ(www.policy, Policy::Quarantine);
    EXPECT_EQ(www.policy_tag, "sp");
    EXPECT_EQ(www.policy_domain, "bank.example");
    EXPECT_EQ(www.org_domain, "bank.example");

    EXPECT_EQ(run("mail.bank.example").policy_tag, "sp");

    const auto ghost = run("ghost.bank.example");
    EXPECT_EQ(ghost.result, Result::Fail);
    EXPECT_EQ(ghost.policy, Policy::None);
    EXPECT_EQ(ghost.policy_tag, "np");
    EXPECT_THAT(ghost.reason, HasSubstr("np=none for non-existent subdomains"));

    EXPECT_EQ(run("bank.example").policy, Policy::Reject);
}

TEST_F(DmarcEvaluator, NpFallsBackToSpThenP) {
    zone_.add_txt("_dmarc.a.example", "v=DMARC1; p=reject; sp=none");
    zone_.add_txt("_dmarc.b.example", "v=DMARC1; p=quarantine");
    EXPECT_EQ(run("ghost.a.example").policy, Policy::None);
    EXPECT_EQ(run("ghost.b.example").policy, Policy::Quarantine);
    // Without np= nobody asks whether the name exists.
    for (const auto& q : zone_.queries()) {
        EXPECT_EQ(q.type, dns::RecordType::Txt) << q.name;
    }
}

TEST_F(DmarcEvaluator, ExistenceIsAskedOnlyWhenNpWouldChangeTheAnswer) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=reject; np=reject");
    const auto out = run("ghost.bank.example");
    EXPECT_EQ(out.policy, Policy::Reject);
    for (const auto& q : zone_.queries()) {
        EXPECT_EQ(q.type, dns::RecordType::Txt) << q.name;
    }
}

TEST_F(DmarcEvaluator, ExistenceCheckTimeoutMakesAFailureTemperror) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=none; np=reject");
    zone_.add_failure("flaky.bank.example", dns::Rcode::Timeout);
    const auto out = run("flaky.bank.example");
    EXPECT_EQ(out.result, Result::TempError) << out.reason;
    EXPECT_THAT(out.reason, HasSubstr("exists"));
    // A pass does not need to know.
    EXPECT_EQ(run("flaky.bank.example", spf_pass("bank.example")).result, Result::Pass);
}

TEST_F(DmarcEvaluator, TestingLowersTheDispositionOneStep) {
    zone_.add_txt("_dmarc.r.example", "v=DMARC1; p=reject; t=y");
    zone_.add_txt("_dmarc.q.example", "v=DMARC1; p=quarantine; t=y");
    zone_.add_txt("_dmarc.pct.example", "v=DMARC1; p=reject; pct=0");
    const auto r = run("r.example");
    EXPECT_EQ(r.result, Result::Fail);
    EXPECT_EQ(r.policy, Policy::Reject);
    EXPECT_EQ(r.disposition, Policy::Quarantine);
    EXPECT_THAT(r.reason, HasSubstr("t=y (testing)"));
    EXPECT_EQ(run("q.example").disposition, Policy::None);
    EXPECT_EQ(run("pct.example").disposition, Policy::Quarantine);
}

TEST_F(DmarcEvaluator, NxdomainIsNoneButTimeoutAndServfailAreTemperror) {
    EXPECT_EQ(run("nothing.example").result, Result::None);

    zone_.add_failure("_dmarc.slow.example", dns::Rcode::Timeout);
    const auto slow = run("slow.example");
    EXPECT_EQ(slow.result, Result::TempError);
    EXPECT_THAT(slow.reason, HasSubstr("_dmarc.slow.example failed (timeout)"));

    zone_.add_failure("_dmarc.broken.example", dns::Rcode::ServFail);
    EXPECT_EQ(run("broken.example", spf_pass("broken.example")).result, Result::TempError);

    // A failure further up the walk also stops it: no false "none".
    zone_.add_failure("_dmarc.up.example", dns::Rcode::Timeout);
    EXPECT_EQ(run("a.b.up.example").result, Result::TempError);
}

TEST_F(DmarcEvaluator, AnAlignedIdentifierWithADnsFailureIsTemperrorNotFail) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=reject");
    const auto spf = run("bank.example", SpfInput{spf::Result::TempError, "mail.bank.example"});
    EXPECT_EQ(spf.result, Result::TempError);
    EXPECT_THAT(spf.reason, HasSubstr("SPF for mail.bank.example could not be checked"));
    const auto dkim =
        run("bank.example", {}, {DkimInput{dkim::Result::TempError, "bank.example", "s1"}});
    EXPECT_EQ(dkim.result, Result::TempError);
    // Failures of identifiers that could never align do not hold the verdict back.
    EXPECT_EQ(run("bank.example", SpfInput{spf::Result::TempError, "other.example"}).result,
              Result::Fail);
    // And an aligned pass wins over them.
    EXPECT_EQ(run("bank.example", SpfInput{spf::Result::TempError, "bank.example"},
                  {dkim_pass("bank.example")})
                  .result,
              Result::Pass);
}

TEST_F(DmarcEvaluator, TenTxtRecordsAtDmarcMeanNoRecordThere) {
    for (int i = 0; i < 10; ++i) {
        zone_.add_txt("_dmarc.many.example",
                      "v=DMARC1; p=reject; rua=mailto:r" + std::to_string(i) + "@many.example");
    }
    const auto out = run("many.example");
    EXPECT_EQ(out.result, Result::None);
    EXPECT_THAT(out.reason, HasSubstr("has 10 DMARC records, so none counts"));

    // One DMARC record among unrelated TXT records is the record.
    for (int i = 0; i < 9; ++i) {
        zone_.add_txt("_dmarc.mixed.example", "google-site-verification=" + std::to_string(i));
    }
    zone_.add_txt("_dmarc.mixed.example", std::vector<std::string>{"v=DMARC1; ", "p=reject"});
    EXPECT_EQ(run("mixed.example").policy, Policy::Reject);

    // Two records at the author domain: the walk goes on to the parent's.
    zone_.add_txt("_dmarc.sub.parent.example", "v=DMARC1; p=none");
    zone_.add_txt("_dmarc.sub.parent.example", "v=DMARC1; p=reject");
    zone_.add_txt("_dmarc.parent.example", "v=DMARC1; p=quarantine");
    const auto sub = run("sub.parent.example");
    EXPECT_EQ(sub.policy_domain, "parent.example");
    EXPECT_EQ(sub.policy, Policy::Quarantine);
}

TEST_F(DmarcEvaluator, GarbageRecordsAreNotPolicies) {
    zone_.add_txt("_dmarc.junk.example", "v=DMARC1 p=reject");  // no ';': version "DMARC1 p"
    zone_.add_txt("_dmarc.noversion.example", "p=reject");
    zone_.add_txt("_dmarc.binary.example", std::string("\x00\xff\x01v=DMARC1", 11));
    for (const char* d : {"junk.example", "noversion.example", "binary.example"}) {
        EXPECT_EQ(run(d).result, Result::None) << d;
    }
}

TEST_F(DmarcEvaluator, RecordWithoutValidPolicyIsPNoneOnlyWithRua) {
    zone_.add_txt("_dmarc.rua.example", "v=DMARC1; rua=mailto:agg@rua.example");
    zone_.add_txt("_dmarc.norua.example", "v=DMARC1; sp=quarantine; np=reject");
    zone_.add_txt("_dmarc.badp.example", "v=DMARC1; p=maybe; rua=mailto:agg@badp.example");
    const auto rua = run("rua.example");
    EXPECT_EQ(rua.result, Result::Fail);
    EXPECT_EQ(rua.policy, Policy::None);
    EXPECT_EQ(run("badp.example").result, Result::Fail);
    const auto norua = run("norua.example");
    EXPECT_EQ(norua.result, Result::None);
    EXPECT_THAT(norua.reason, HasSubstr("no valid p="));
}

TEST_F(DmarcEvaluator, TreeWalkFindsTheOrganizationalDomainRecord) {
    // RFC 9989 Appendix B.4.1 and B.4.2.
    zone_.add_txt("_dmarc.example.com", "v=DMARC1; p=reject");
    zone_.add_txt("_dmarc.signing.example.com", "v=DMARC1; p=none");
    const auto b41 =
        run("example.com", spf_pass("example.com"), {dkim_pass("signing.example.com")});
    EXPECT_EQ(b41.result, Result::Pass);
    EXPECT_TRUE(b41.spf_aligned);
    EXPECT_TRUE(b41.dkim_aligned);

    const auto deep =
        run("a.b.c.d.e.f.g.h.i.j.k.example.com", {}, {dkim_pass("signing.example.com")});
    EXPECT_EQ(deep.result, Result::Pass) << deep.reason;
    EXPECT_EQ(deep.policy_domain, "example.com");
    EXPECT_EQ(deep.org_domain, "example.com");
    EXPECT_THAT(dmarc_queries(zone_),
                ElementsAre("a.b.c.d.e.f.g.h.i.j.k.example.com", "g.h.i.j.k.example.com",
                            "h.i.j.k.example.com", "i.j.k.example.com", "j.k.example.com",
                            "k.example.com", "example.com", "com", "signing.example.com"));
}

TEST_F(DmarcEvaluator, LongNamesCostAtMostEightPolicyQueries) {
    std::string author = "mail.example.com";
    for (int i = 0; i < 40; ++i) {
        author = "l" + std::to_string(i) + "." + author;
    }
    const auto out = run(author);
    EXPECT_EQ(out.result, Result::None);
    EXPECT_LE(zone_.query_count(), 8u);
    EXPECT_EQ(out.dns_queries, 8);
    const auto names = dmarc_queries(zone_);
    ASSERT_EQ(names.size(), 8u);
    EXPECT_EQ(names.front(), author);
    EXPECT_EQ(names[1], "l3.l2.l1.l0.mail.example.com");  // straight to 7 labels
    EXPECT_EQ(names.back(), "com");

    // Names of up to 8 labels are walked one label at a time.
    const auto seven = run("a.b.c.d.e.example.com");
    EXPECT_EQ(dmarc_queries(zone_).size(), 7u);
    EXPECT_EQ(seven.dns_queries, 7);
}

TEST_F(DmarcEvaluator, RecordsAtSkippedNamesAreNeverSeen) {
    // RFC 9989 §5.1.8: the psd=n record at b.c.d.e.f.g.example.com is skipped.
    zone_.add_txt("_dmarc.example.com", "v=DMARC1; p=none");
    zone_.add_txt("_dmarc.b.c.d.e.f.g.example.com", "v=DMARC1; p=reject; psd=n");
    const auto out = run("mail.a.b.c.d.e.f.g.example.com");
    EXPECT_EQ(out.policy_domain, "example.com");
    EXPECT_EQ(out.policy, Policy::None);
}

TEST_F(DmarcEvaluator, PsdYesMakesTheNameBelowItTheOrganizationalDomain) {
    // RFC 9989 Appendix B.4.3.
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=reject; psd=y");
    zone_.add_txt("_dmarc.giant.bank.example", "v=DMARC1; p=quarantine");
    const auto out = run("giant.bank.example", spf_pass("mail.giant.bank.example"),
                         {dkim_pass("mail.mega.bank.example")});
    EXPECT_EQ(out.result, Result::Pass);
    EXPECT_TRUE(out.spf_aligned);
    EXPECT_FALSE(out.dkim_aligned);
    EXPECT_EQ(out.org_domain, "giant.bank.example");
    EXPECT_EQ(out.policy_domain, "giant.bank.example");

    const auto dkim_only = run("giant.bank.example", {}, {dkim_pass("mail.mega.bank.example")});
    EXPECT_EQ(dkim_only.result, Result::Fail);
    EXPECT_EQ(dkim_only.disposition, Policy::Quarantine);

    Evaluator evaluator = make();
    EXPECT_EQ(evaluator.organizational_domain("mail.mega.bank.example"), "mega.bank.example");
    EXPECT_EQ(evaluator.organizational_domain("x.giant.bank.example"), "giant.bank.example");
}

TEST_F(DmarcEvaluator, PublicSuffixDomainPolicyCoversItsRegistrants) {
    zone_.add_txt("_dmarc.gov", "v=DMARC1; p=reject; sp=none; np=quarantine; psd=y");
    zone_.add_a("example.gov", *util::IpAddress::parse("192.0.2.7"));
    zone_.add_a("www.example.gov", *util::IpAddress::parse("192.0.2.8"));
    const auto registrant = run("example.gov");
    EXPECT_EQ(registrant.result, Result::Fail);
    EXPECT_EQ(registrant.policy_domain, "gov");
    EXPECT_EQ(registrant.org_domain, "example.gov");
    EXPECT_EQ(registrant.policy, Policy::Reject);            // the organizational domain itself: p
    EXPECT_EQ(run("www.example.gov").policy, Policy::None);  // below it: sp
    EXPECT_EQ(run("nonexistent.gov").policy, Policy::Quarantine);  // np
}

TEST_F(DmarcEvaluator, PsdNoStopsTheWalk) {
    zone_.add_txt("_dmarc.example.com", "v=DMARC1; p=reject");
    zone_.add_txt("_dmarc.dept.example.com", "v=DMARC1; p=none; psd=n");
    Evaluator evaluator = make();
    EXPECT_EQ(evaluator.organizational_domain("a.dept.example.com"), "dept.example.com");
    EXPECT_EQ(evaluator.organizational_domain("other.example.com"), "example.com");
    // So the department's mail does not align with the apex.
    EXPECT_EQ(run("a.dept.example.com", spf_pass("example.com")).result, Result::Fail);
    EXPECT_EQ(run("a.dept.example.com", spf_pass("b.dept.example.com")).result, Result::Pass);
}

TEST_F(DmarcEvaluator, Rfc9989SubdomainRecordWithoutParentRecordIsItsOwnOrganization) {
    // The rspamd "relaxed alignment" case that RFC 7489 (PSL) passes and RFC 9989 does not.
    zone_.add_txt("_dmarc.my.mom.example", "v=DMARC1; p=reject");
    const auto out = run("my.mom.example", spf_pass("mom.example"), {dkim_pass("mom.example")});
    EXPECT_EQ(out.result, Result::Fail);
    EXPECT_EQ(out.org_domain, "my.mom.example");
}

TEST_F(DmarcEvaluator, UnrelatedIdentifiersCostNoDnsAndManySignaturesAreBounded) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=reject");
    std::vector<DkimInput> sigs;
    for (int i = 0; i < 10000; ++i) {
        sigs.push_back(dkim_pass("d" + std::to_string(i) + ".other.example"));
    }
    for (int i = 0; i < 10000; ++i) {
        sigs.push_back(dkim_pass("s" + std::to_string(i) + ".bank.example"));
    }
    const auto out = run("bank.example", {}, sigs);
    EXPECT_EQ(out.result, Result::Pass);  // the first subdomain signature aligns
    EXPECT_LT(zone_.query_count(), 20u);

    zone_.add_txt("_dmarc.mom.example", "v=DMARC1; p=reject");
    std::vector<DkimInput> unaligned;
    for (int i = 0; i < 10000; ++i) {
        unaligned.push_back(dkim_pass("s" + std::to_string(i) + ".bad.mom.example"));
    }
    zone_.add_txt("_dmarc.bad.mom.example", "v=DMARC1; p=none; psd=n");
    const auto bounded = run("mom.example", {}, unaligned);
    EXPECT_EQ(bounded.result, Result::Fail);
    EXPECT_LE(zone_.query_count(), 20u);  // the author walk, then 16 identifier walks
}

TEST_F(DmarcEvaluator, UnusableAuthorIsPermerror) {
    for (const char* d : {"", ".", "a..b", "exa mple.com", "a;b.example"}) {
        const auto out = run(d);
        EXPECT_EQ(out.result, Result::PermError) << d;
        EXPECT_EQ(zone_.query_count(), 0u);
    }
    const auto from = unusable_author("From: is a group");
    EXPECT_EQ(from.result, Result::PermError);
    EXPECT_EQ(from.reason, "From: is a group");
}

TEST_F(DmarcEvaluator, SeveralAuthorsGiveTheStrictestOutcome) {
    zone_.add_txt("_dmarc.example.com", "v=DMARC1; p=reject");
    zone_.add_txt("_dmarc.example.org", "v=DMARC1; p=none");
    const std::vector<std::string> authors{"example.org", "example.com"};
    const std::vector<DkimInput> dkim{DkimInput{dkim::Result::Fail, "example.com", "s"},
                                      dkim_pass("example.org")};
    const auto out = make().evaluate_authors(authors, {}, dkim);
    EXPECT_EQ(out.result, Result::Fail);
    EXPECT_EQ(out.header_from, "example.com");
    EXPECT_EQ(out.disposition, Policy::Reject);
    EXPECT_THAT(out.reason, HasSubstr("From: has 2 author domains"));
}

TEST_F(DmarcEvaluator, DiscoverPolicyTellsWhatAFailingMessageGets) {
    zone_.add_txt("_dmarc.bank.example", "v=DMARC1; p=reject; sp=quarantine; t=y");
    zone_.add_a("www.bank.example", *util::IpAddress::parse("192.0.2.1"));
    Evaluator evaluator = make();
    const auto apex = evaluator.discover_policy("bank.example");
    EXPECT_EQ(apex.result, Result::Fail);
    EXPECT_EQ(apex.policy, Policy::Reject);
    EXPECT_EQ(apex.disposition, Policy::Quarantine);
    const auto www = evaluator.discover_policy("www.bank.example");
    EXPECT_EQ(www.policy, Policy::Quarantine);
    EXPECT_EQ(www.policy_domain, "bank.example");
    EXPECT_EQ(evaluator.discover_policy("nobody.example").result, Result::None);
    zone_.add_failure("_dmarc.slow.example", dns::Rcode::Timeout);
    EXPECT_EQ(evaluator.discover_policy("slow.example").result, Result::TempError);
    EXPECT_EQ(evaluator.discover_policy("").result, Result::PermError);
}

TEST_F(DmarcEvaluator, PublicSuffixListMethodUsesTheRegistrableDomain) {
    mailwarden::testing::TempDir dir("mw-dmarc-psl");
    const auto psl = dir.write("psl.dat", "// test list\ncom\nexample\nza.org\n*.ck\n!www.ck\n");
    zone_.add_txt("_dmarc.mom.za.org", "v=DMARC1; p=reject; sp=quarantine");
    zone_.add_txt("_dmarc.my.mom.za.org", "v=DMARC1; p=reject");
    zone_.add_txt("_dmarc.example.com", "v=DMARC1; p=none");
    Options options;
    options.method = OrgDomainMethod::PublicSuffixList;
    options.psl_file = psl;
    Evaluator evaluator = make(options);
    EXPECT_EQ(evaluator.organizational_domain("a.b.mom.za.org"), "mom.za.org");
    EXPECT_EQ(evaluator.organizational_domain("x.y.test.ck"), "y.test.ck");
    EXPECT_EQ(evaluator.organizational_domain("a.www.ck"), "www.ck");
    EXPECT_EQ(evaluator.organizational_domain("za.org"), "za.org");

    zone_.clear_log();
    // RFC 7489: my.mom.za.org and mom.za.org share the organizational domain.
    const auto out = evaluator.evaluate("my.mom.za.org", spf_pass("mom.za.org"), {});
    EXPECT_EQ(out.result, Result::Pass);
    EXPECT_EQ(out.org_domain, "mom.za.org");
    // A subdomain without a record takes the organizational domain's sp=.
    const auto sub = evaluator.evaluate("deep.sub.mom.za.org", {}, {});
    EXPECT_EQ(sub.policy_domain, "mom.za.org");
    EXPECT_EQ(sub.policy, Policy::Quarantine);
    EXPECT_THAT(dmarc_queries(zone_),
                ElementsAre("my.mom.za.org", "deep.sub.mom.za.org", "mom.za.org"));

    std::string error;
    options.psl_file = dir / "missing.dat";
    EXPECT_FALSE(Evaluator::create(zone_, options, &error).has_value());
    EXPECT_THAT(error, HasSubstr("cannot load the Public Suffix List"));
}

}  // namespace
}  // namespace mailwarden::auth::dmarc
