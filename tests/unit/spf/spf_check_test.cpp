// spf_check_test.cpp - the SPF check at MAIL FROM: actions, replies, DMARC deferral,
// Received-SPF, result cache, HELO identity and scope.
#include "policy/checks/spf_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dns/static_resolver.hpp"
#include "support/fake_clock.hpp"
#include "support/matchers.hpp"

namespace mailwarden::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kZone = R"(
example.com:
  - TXT: v=spf1 ip4:192.0.2.0/24 -all exp=why.example.com
why.example.com:
  - TXT: "See https://example.com/spf for our senders"
dmarc-reject.example:
  - TXT: v=spf1 -all
_dmarc.dmarc-reject.example:
  - TXT: v=DMARC1; p=reject; rua=mailto:d@dmarc-reject.example
sub.parent.example:
  - TXT: v=spf1 -all
_dmarc.parent.example:
  - TXT: v=DMARC1; p=reject; sp=none
dmarc-dead.example:
  - TXT: v=spf1 -all
_dmarc.dmarc-dead.example:
  - TIMEOUT
dnsdown.example:
  - TIMEOUT
mail.example.net:
  - TXT: v=spf1 a -all
  - A: 198.51.100.7
broken.example:
  - TXT: v=spf1 ip4:1.2.3.4/99 -all
)";

class SpfCheckTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_THAT(zone_->load_text(kZone), testing::IsOk()); }

    SpfCheck make(SpfCheckSettings settings = {}) {
        auto dmarc = auth::dmarc::Evaluator::create(*zone_, {});
        EXPECT_TRUE(dmarc.has_value());
        return SpfCheck(zone_, clock_, settings,
                        std::make_shared<auth::dmarc::Evaluator>(std::move(*dmarc)));
    }

    static Transaction tx(const char* ip, const char* from, const char* helo = "mail.example.net") {
        Transaction t;
        t.connection.client_ip = *util::IpAddress::parse(ip);
        t.connection.helo = helo;
        t.connection.mta_hostname = "mx.receiver.example";
        t.message.raw_mail_from = from;
        t.message.mail_from = *smtp::parse_envelope_address(from);
        return t;
    }

    static Decision run(const SpfCheck& check, Transaction t) {
        auto r = check.start(t);
        return r->on(Stage::MailFrom, t);
    }

    std::shared_ptr<dns::StaticResolver> zone_ = std::make_shared<dns::StaticResolver>();
    std::shared_ptr<testing::FakeClock> clock_ = std::make_shared<testing::FakeClock>();
};

TEST_F(SpfCheckTest, FailIsRejectedInPlainWordsWithTheDomainsExplanation) {
    const auto check = make();
    const Decision d = run(check, tx("203.0.113.9", "<bob@example.com>"));
    EXPECT_EQ(d.action, Action::Reject);
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->code, 550);
    EXPECT_EQ(d.reply->enhanced, "5.7.23");
    EXPECT_THAT(d.reply->lines,
                ElementsAre("The domain example.com does not authorise 203.0.113.9 to send its "
                            "mail (SPF fail)",
                            "example.com explains: See https://example.com/spf for our senders"));
    EXPECT_THAT(d.reason, HasSubstr("SPF fail for mailfrom example.com from 203.0.113.9"));
    EXPECT_THAT(d.reason, HasSubstr("mechanism=-all"));
    ASSERT_EQ(d.headers.size(), 1u);
    EXPECT_EQ(d.headers[0].name, "Received-SPF");
    EXPECT_THAT(d.headers[0].value, StartsWith("fail (mx.receiver.example: domain of "));
}

TEST_F(SpfCheckTest, PassAddsTheHeaderAndNoOpinion) {
    const auto check = make();
    const Decision d = run(check, tx("192.0.2.10", "<bob@example.com>"));
    EXPECT_EQ(d.action, Action::Continue);
    EXPECT_FALSE(d.reply.has_value());
    ASSERT_EQ(d.headers.size(), 1u);
    EXPECT_EQ(d.headers[0].kind, HeaderEdit::Kind::Insert);
    EXPECT_THAT(d.headers[0].value, StartsWith("pass (mx.receiver.example: domain of "
                                               "bob@example.com designates 192.0.2.10"));
}

TEST_F(SpfCheckTest, TheOutcomeIsLeftInTheTransactionForDmarc) {
    const auto check = make();
    Transaction t = tx("192.0.2.10", "<bob@example.com>");
    auto r = check.start(t);
    r->on(Stage::MailFrom, t);
    ASSERT_TRUE(t.message.spf.has_value());
    EXPECT_EQ(t.message.spf->result, auth::spf::Result::Pass);
    EXPECT_EQ(t.message.spf->domain, "example.com");
}

TEST_F(SpfCheckTest, EnforcingDmarcTakesOverAFail) {
    const auto check = make();
    const Decision d = run(check, tx("203.0.113.9", "<a@dmarc-reject.example>"));
    EXPECT_EQ(d.action, Action::Continue);
    EXPECT_THAT(d.reason, HasSubstr("DMARC policy decides"));
    // sp=none at the parent applies to a subdomain: SPF rejects.
    EXPECT_EQ(run(check, tx("203.0.113.9", "<a@sub.parent.example>")).action, Action::Reject);
    // Without the deferral the fail is rejected anyway.
    SpfCheckSettings strict;
    strict.defer_fail_to_dmarc = false;
    EXPECT_EQ(run(make(strict), tx("203.0.113.9", "<a@dmarc-reject.example>")).action,
              Action::Reject);
}

TEST_F(SpfCheckTest, UnknownDmarcPolicyTurnsARejectIntoATempfail) {
    const Decision d = run(make(), tx("203.0.113.9", "<a@dmarc-dead.example>"));
    EXPECT_EQ(d.action, Action::Tempfail);
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->code, 451);
    EXPECT_EQ(d.reply->enhanced, "4.7.23");
}

TEST_F(SpfCheckTest, TempErrorIsTempfailedAndNotCached) {
    const auto check = make();
    const Decision d = run(check, tx("192.0.2.1", "<a@dnsdown.example>"));
    EXPECT_EQ(d.action, Action::Tempfail);
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->code, 451);
    EXPECT_EQ(d.reply->enhanced, "4.7.24");
    EXPECT_THAT(d.reply->lines[0], HasSubstr("temporary DNS error"));
    zone_->clear_log();
    (void)run(check, tx("192.0.2.1", "<a@dnsdown.example>"));
    EXPECT_EQ(zone_->query_count(), 1u);  // asked again, not served from the cache
}

TEST_F(SpfCheckTest, PermErrorActionIsConfigurable) {
    EXPECT_EQ(run(make(), tx("192.0.2.1", "<a@broken.example>")).action, Action::Continue);
    SpfCheckSettings settings;
    settings.actions[auth::spf::Result::PermError] = Action::Reject;
    const Decision d = run(make(settings), tx("192.0.2.1", "<a@broken.example>"));
    EXPECT_EQ(d.action, Action::Reject);
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->enhanced, "5.7.24");
    EXPECT_THAT(d.reply->lines[0], HasSubstr("The SPF record of broken.example is broken"));
}

TEST_F(SpfCheckTest, ResultsAreCachedPerClientAndIdentityForTheConfiguredTime) {
    SpfCheckSettings settings;
    settings.result_cache_ttl = std::chrono::seconds(60);
    const auto check = make(settings);
    (void)run(check, tx("192.0.2.10", "<bob@example.com>"));
    zone_->clear_log();
    EXPECT_EQ(run(check, tx("192.0.2.10", "<bob@example.com>")).action, Action::Continue);
    EXPECT_EQ(zone_->query_count(), 0u);
    (void)run(check, tx("192.0.2.11", "<bob@example.com>"));  // another client: evaluated
    EXPECT_EQ(zone_->query_count(), 0u);  // ...but the record itself came from the cache
    clock_->advance(std::chrono::seconds(3601));
    (void)run(check, tx("192.0.2.10", "<bob@example.com>"));
    EXPECT_GT(zone_->query_count(), 0u);
}

TEST_F(SpfCheckTest, NullSenderAndCheckHeloUseTheHeloIdentity) {
    const auto check = make();
    const Decision bounce = run(check, tx("198.51.100.7", "<>", "mail.example.net"));
    EXPECT_EQ(bounce.action, Action::Continue);
    ASSERT_EQ(bounce.headers.size(), 1u);
    EXPECT_THAT(bounce.headers[0].value, HasSubstr("identity=helo"));
    const Decision bad_helo = run(check, tx("203.0.113.1", "<>", "mail.example.net"));
    EXPECT_EQ(bad_helo.action, Action::Reject);
    EXPECT_THAT(bad_helo.reply->lines[0], StartsWith("The HELO name mail.example.net"));
    SpfCheckSettings helo_first;
    helo_first.check_helo = true;
    const Decision d = run(make(helo_first), tx("203.0.113.1", "<a@example.com>"));
    EXPECT_EQ(d.action, Action::Reject);
    EXPECT_THAT(d.reason, HasSubstr("for helo mail.example.net"));
}

TEST_F(SpfCheckTest, SkipsOutboundAndLocalMailAndHonoursWarnMode) {
    const auto check = make();
    auto outbound = tx("203.0.113.9", "<bob@example.com>");
    outbound.message.direction = Direction::Outbound;
    EXPECT_EQ(run(check, outbound).action, Action::Continue);
    EXPECT_TRUE(run(check, outbound).headers.empty());
    auto local = tx("203.0.113.9", "<bob@example.com>");
    local.connection.client_ip.reset();
    EXPECT_FALSE(check.evaluate(local).has_value());
    SpfCheckSettings warn;
    warn.warn_only = true;
    const Decision d = run(make(warn), tx("203.0.113.9", "<bob@example.com>"));
    EXPECT_EQ(d.action, Action::Reject);
    EXPECT_TRUE(d.warn_only);
}

}  // namespace
}  // namespace mailwarden::policy
