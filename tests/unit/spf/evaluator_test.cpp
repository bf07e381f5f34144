// evaluator_test.cpp - check_host() behaviour, limits, bad input, trace, cache and header.
#include "auth/spf/evaluator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "auth/spf/macro.hpp"
#include "auth/spf/received_spf.hpp"
#include "dns/static_resolver.hpp"
#include "support/fake_clock.hpp"
#include "support/matchers.hpp"

namespace mailwarden::auth::spf {

void PrintTo(Result r, std::ostream* os) {
    *os << to_string(r);
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kZone = R"(
example.com:
  - TXT: v=spf1 include:_spf.example.com ip4:198.51.100.0/24 -all exp=why.example.com
  - TXT: google-site-verification=abc
why.example.com:
  - TXT: "%{i} is not one of %{d}'s senders"
_spf.example.com:
  - TXT: v=spf1 include:_netblocks.example.com ~all
_netblocks.example.com:
  - TXT: v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:1::/48 -all
loop.example:
  - TXT: v=spf1 include:loop2.example -all
loop2.example:
  - TXT: v=spf1 include:loop.example -all
voids.example:
  - TXT: v=spf1 a:n1.voids.example a:n2.voids.example a:n3.voids.example +all
twovoids.example:
  - TXT: v=spf1 a:n1.twovoids.example a:n2.twovoids.example +all
manymx.example:
  - TXT: v=spf1 mx -all
  - MX: [1, m1.example]
  - MX: [2, m2.example]
  - MX: [3, m3.example]
  - MX: [4, m4.example]
  - MX: [5, m5.example]
  - MX: [6, m6.example]
  - MX: [7, m7.example]
  - MX: [8, m8.example]
  - MX: [9, m9.example]
  - MX: [10, m10.example]
  - MX: [11, m11.example]
timeout.example:
  - TXT: v=spf1 a:dead.example -all
dead.example:
  - TIMEOUT
txtdead.example:
  - TIMEOUT
two.example:
  - TXT: v=spf1 +all
  - TXT: v=spf1 -all
garbage.example:
  - TXT: v=spf1 ip4:192.0.2.1 &&&% -all
badip.example:
  - TXT: v=spf1 ip4:300.1.2.3 -all
longmacro.example:
  - TXT: v=spf1 exists:%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.longmacro.example -all
helo.example:
  - TXT: v=spf1 a -all
  - A: 203.0.113.5
noinclude.example:
  - TXT: v=spf1 include:nothing.example -all
)";

class EvaluatorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_THAT(zone_.load_text(kZone), testing::IsOk());
        // Eleven includes in a chain, and a record of 4000 octets.
        for (int i = 0; i < 11; ++i) {
            zone_.add_txt("c" + std::to_string(i) + ".example",
                          "v=spf1 include:c" + std::to_string(i + 1) + ".example -all");
        }
        zone_.add_txt("c11.example", "v=spf1 +all");
        std::string huge = "v=spf1";
        while (huge.size() < 70000) {
            huge += " ip4:192.0.2.1";
        }
        zone_.add_txt("huge.example", std::vector<std::string>(1, huge));
    }

    Outcome mail_from(const char* ip, const char* from, const char* helo = "mail.example.net") {
        Evaluator evaluator(zone_, clock_);
        return evaluator.check_mail_from(*util::IpAddress::parse(ip), from, helo);
    }

    dns::StaticResolver zone_;
    testing::FakeClock clock_;
};

TEST_F(EvaluatorTest, PassThroughAnIncludeChainIsTraced) {
    const auto outcome = mail_from("192.0.2.77", "<alice@example.com>");
    EXPECT_EQ(outcome.result, Result::Pass);
    EXPECT_EQ(outcome.identity, Identity::MailFrom);
    EXPECT_EQ(outcome.domain, "example.com");
    EXPECT_EQ(outcome.trace.decided_by, "ip4:192.0.2.0/24");
    EXPECT_EQ(outcome.trace.decided_in, "_netblocks.example.com");
    EXPECT_THAT(outcome.trace.include_chain,
                ElementsAre("example.com", "_spf.example.com", "_netblocks.example.com"));
    EXPECT_EQ(outcome.trace.dns_lookups, 2);
    EXPECT_EQ(outcome.trace.void_lookups, 0);
    EXPECT_EQ(outcome.trace.record,
              "v=spf1 include:_spf.example.com ip4:198.51.100.0/24 -all exp=why.example.com");
    EXPECT_EQ(outcome.short_trace(),
              "mechanism=ip4:192.0.2.0/24 in=_netblocks.example.com "
              "chain=example.com>_spf.example.com>_netblocks.example.com lookups=2 void=0");
}

TEST_F(EvaluatorTest, Ipv6AndIpv4MappedClients) {
    EXPECT_EQ(mail_from("2001:db8:1::25", "a@example.com").result, Result::Pass);
    EXPECT_EQ(mail_from("::ffff:198.51.100.9", "a@example.com").result, Result::Pass);
    // ~all inside the include is "no match" for the include (RFC 7208 §5.2); -all decides.
    EXPECT_EQ(mail_from("2001:db8:2::25", "a@example.com").result, Result::Fail);
}

TEST_F(EvaluatorTest, FailCarriesTheExpText) {
    const auto outcome = mail_from("203.0.113.9", "a@example.com");
    // _spf.example.com ends in ~all, so the include does not match and -all decides.
    EXPECT_EQ(outcome.result, Result::Fail);
    EXPECT_EQ(outcome.trace.decided_by, "-all");
    EXPECT_EQ(outcome.explanation, "203.0.113.9 is not one of example.com's senders");
}

TEST_F(EvaluatorTest, IncludeLoopStopsAtTheLookupLimit) {
    const auto outcome = mail_from("192.0.2.1", "a@loop.example");
    EXPECT_EQ(outcome.result, Result::PermError);
    EXPECT_EQ(outcome.trace.dns_lookups, kMaxDnsTerms + 1);
    EXPECT_THAT(outcome.trace.error, HasSubstr("DNS-querying terms"));
    EXPECT_THAT(outcome.trace.error_term, HasSubstr("include:loop"));
    EXPECT_LE(zone_.query_count(), static_cast<std::size_t>(kMaxDnsTerms + 2));
}

TEST_F(EvaluatorTest, TenIncludesPassElevenDoNot) {
    EXPECT_EQ(mail_from("192.0.2.1", "a@c1.example").result, Result::Pass);       // 10 includes
    EXPECT_EQ(mail_from("192.0.2.1", "a@c0.example").result, Result::PermError);  // 11
}

TEST_F(EvaluatorTest, AnErrorAfterAnEarlierMatchNamesNoDecidingTerm) {
    zone_.add_txt("mixed.example", "v=spf1 include:_spf.example.com a:dead.example -all");
    const auto outcome = mail_from("203.0.113.1", "a@mixed.example");
    EXPECT_EQ(outcome.result, Result::TempError);
    EXPECT_EQ(outcome.trace.decided_by, "");  // not the "~all" seen inside the include
    EXPECT_EQ(outcome.trace.error_term, "a:dead.example");
    EXPECT_THAT(outcome.short_trace(), HasSubstr("problem=a:dead.example: A lookup of "));
}

TEST_F(EvaluatorTest, VoidLookupLimitGivesPermError) {
    EXPECT_EQ(mail_from("192.0.2.1", "a@twovoids.example").result, Result::Pass);
    const auto outcome = mail_from("192.0.2.1", "a@voids.example");
    EXPECT_EQ(outcome.result, Result::PermError);
    EXPECT_EQ(outcome.trace.void_lookups, 3);
    EXPECT_EQ(outcome.trace.error_term, "a:n3.voids.example");
}

TEST_F(EvaluatorTest, MoreThanTenMxNamesGivesPermError) {
    const auto outcome = mail_from("192.0.2.1", "a@manymx.example");
    EXPECT_EQ(outcome.result, Result::PermError);
    EXPECT_THAT(outcome.trace.error, HasSubstr("11 MX names"));
}

TEST_F(EvaluatorTest, DnsTimeoutsGiveTempErrorNeverFail) {
    const auto in_mechanism = mail_from("192.0.2.1", "a@timeout.example");
    EXPECT_EQ(in_mechanism.result, Result::TempError);
    EXPECT_THAT(in_mechanism.trace.error, HasSubstr("timeout"));
    EXPECT_EQ(in_mechanism.trace.error_term, "a:dead.example");
    EXPECT_EQ(mail_from("192.0.2.1", "a@txtdead.example").result, Result::TempError);
}

TEST_F(EvaluatorTest, BadRecordsArePermErrors) {
    EXPECT_EQ(mail_from("192.0.2.1", "a@two.example").result, Result::PermError);
    const auto garbage = mail_from("192.0.2.1", "a@garbage.example");
    EXPECT_EQ(garbage.result, Result::PermError);
    EXPECT_EQ(garbage.trace.error_term, "&&&%");
    EXPECT_EQ(mail_from("192.0.2.1", "a@badip.example").result, Result::PermError);
    EXPECT_EQ(mail_from("192.0.2.1", "a@huge.example").result, Result::PermError);
    EXPECT_EQ(mail_from("192.0.2.1", "a@noinclude.example").result, Result::PermError);
}

TEST_F(EvaluatorTest, MacrosPast253OctetsAreTruncatedBeforeTheQuery) {
    const std::string local(60, 'x');
    const std::string from = local + "@longmacro.example";
    zone_.clear_log();
    const auto outcome = mail_from("192.0.2.1", from.c_str());
    EXPECT_EQ(outcome.result, Result::Fail);
    const auto queries = zone_.queries();
    ASSERT_EQ(queries.size(), 2u);  // TXT, then the exists A query
    EXPECT_LE(queries[1].name.size(), kMaxDomainOctets);
    EXPECT_TRUE(queries[1].name.ends_with(".longmacro.example"));
}

TEST_F(EvaluatorTest, NoRecordAndInvalidDomainsGiveNone) {
    EXPECT_EQ(mail_from("192.0.2.1", "a@nothing.example").result, Result::None);
    EXPECT_EQ(mail_from("192.0.2.1", "a@[192.0.2.1]").result, Result::None);
    EXPECT_EQ(mail_from("192.0.2.1", "a@localhost").result, Result::None);
    EXPECT_EQ(mail_from("192.0.2.1", "a@bad..example").result, Result::None);
}

TEST_F(EvaluatorTest, NullSenderChecksTheHeloIdentity) {
    const auto outcome = mail_from("203.0.113.5", "<>", "helo.example");
    EXPECT_EQ(outcome.result, Result::Pass);
    EXPECT_EQ(outcome.identity, Identity::Helo);
    EXPECT_EQ(outcome.sender, "postmaster@helo.example");
    Evaluator evaluator(zone_, clock_);
    EXPECT_EQ(evaluator.check_helo(util::IpAddress::v4(203, 0, 113, 6), "helo.example").result,
              Result::Fail);
    EXPECT_EQ(evaluator.check_helo(util::IpAddress::v4(203, 0, 113, 5), "[203.0.113.5]").result,
              Result::None);
}

// A resolver that takes 5 seconds (of fake time) per query.
class SlowResolver final : public dns::Resolver {
  public:
    SlowResolver(dns::Resolver& inner, testing::FakeClock& clock) : inner_(inner), clock_(clock) {}
    dns::Answer<dns::TxtRecord> txt(std::string_view n) override { return tick(inner_.txt(n)); }
    dns::Answer<util::IpAddress> a(std::string_view n) override { return tick(inner_.a(n)); }
    dns::Answer<util::IpAddress> aaaa(std::string_view n) override { return tick(inner_.aaaa(n)); }
    dns::Answer<dns::MxRecord> mx(std::string_view n) override { return tick(inner_.mx(n)); }
    dns::Answer<std::string> ptr(const util::IpAddress& ip) override {
        return tick(inner_.ptr(ip));
    }

  private:
    template <class T>
    T tick(T answer) {
        clock_.advance(std::chrono::seconds(5));
        return answer;
    }
    dns::Resolver& inner_;
    testing::FakeClock& clock_;
};

TEST_F(EvaluatorTest, TheWholeEvaluationIsBoundedInTime) {
    SlowResolver slow(zone_, clock_);
    Evaluator evaluator(slow, clock_);
    const auto outcome =
        evaluator.check_mail_from(util::IpAddress::v4(192, 0, 2, 1), "a@c0.example", "h.example");
    EXPECT_EQ(outcome.result, Result::TempError);
    EXPECT_THAT(outcome.trace.error, HasSubstr("limit"));
}

TEST_F(EvaluatorTest, CacheAvoidsTxtQueriesUntilTheTtlEnds) {
    zone_.set_ttl(std::chrono::seconds(60));
    RecordCache cache(clock_);
    Evaluator evaluator(zone_, clock_, Options{}, &cache);
    const auto ip = util::IpAddress::v4(192, 0, 2, 1);
    zone_.clear_log();
    EXPECT_EQ(evaluator.check_mail_from(ip, "a@example.com", "h").result, Result::Pass);
    const auto first = zone_.query_count();
    EXPECT_EQ(first, 3u);
    EXPECT_EQ(evaluator.check_mail_from(ip, "a@example.com", "h").result, Result::Pass);
    EXPECT_EQ(zone_.query_count(), first);  // all three records came from the cache
    clock_.advance(std::chrono::seconds(61));
    EXPECT_EQ(evaluator.check_mail_from(ip, "a@example.com", "h").result, Result::Pass);
    EXPECT_EQ(zone_.query_count(), 2 * first);
    // Lookup counting is about terms, so a cached evaluation counts the same.
    EXPECT_EQ(evaluator.check_mail_from(ip, "a@example.com", "h").trace.dns_lookups, 2);
}

TEST_F(EvaluatorTest, TempErrorsAreNotCached) {
    RecordCache cache(clock_);
    Evaluator evaluator(zone_, clock_, Options{}, &cache);
    const auto ip = util::IpAddress::v4(192, 0, 2, 1);
    EXPECT_EQ(evaluator.check_mail_from(ip, "a@txtdead.example", "h").result, Result::TempError);
    EXPECT_FALSE(cache.find("txtdead.example").has_value());
}

TEST_F(EvaluatorTest, ReceivedSpfHeaderValue) {
    const auto ip = util::IpAddress::v4(192, 0, 2, 77);
    const auto outcome = mail_from("192.0.2.77", "<alice@example.com>", "mail.example.net");
    const std::string value = received_spf_value(
        outcome, ReceivedSpfContext{ip, "alice@example.com", "mail.example.net", "mx.local"});
    EXPECT_EQ(value,
              "pass (mx.local: domain of alice@example.com designates 192.0.2.77 as permitted "
              "sender; mechanism=ip4:192.0.2.0/24 in=_netblocks.example.com "
              "chain=example.com>_spf.example.com>_netblocks.example.com lookups=2 void=0) "
              "client-ip=192.0.2.77; envelope-from=\"alice@example.com\"; helo=mail.example.net; "
              "receiver=mx.local; identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\"");
    const auto perm = mail_from("192.0.2.1", "a@garbage.example", "evil (helo)\r\n");
    const std::string bad = received_spf_value(
        perm, ReceivedSpfContext{ip, "a@garbage.example", "evil (helo)\r\n", "mx.local"});
    EXPECT_THAT(bad, HasSubstr("permerror ("));
    EXPECT_THAT(bad, HasSubstr("problem="));
    EXPECT_THAT(bad, Not(HasSubstr("\r")));
    EXPECT_THAT(bad, Not(HasSubstr("\n")));
    EXPECT_THAT(bad, HasSubstr("helo=\"evil (helo)??\""));
}

TEST_F(EvaluatorTest, FullTraceNamesRecordsAndProblem) {
    const auto outcome = mail_from("192.0.2.1", "a@garbage.example");
    const std::string text = outcome.full_trace();
    EXPECT_THAT(text, HasSubstr("result:       permerror"));
    EXPECT_THAT(text, HasSubstr("'&&&%'"));
    EXPECT_THAT(text, HasSubstr("garbage.example: v=spf1 ip4:192.0.2.1 &&&% -all"));
}

}  // namespace
}  // namespace mailwarden::auth::spf
