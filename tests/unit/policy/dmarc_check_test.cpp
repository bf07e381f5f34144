// dmarc_check_test.cpp - the DMARC check: enforcement per requested policy, the reply that
// names the author domain and what failed, testing mode, temperror handling, bad From:.
#include "policy/checks/dmarc_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dns/static_resolver.hpp"
#include "support/matchers.hpp"

namespace mailwarden::policy {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kZone = R"(
_dmarc.bank.example:
  - TXT: "v=DMARC1; p=reject"
_dmarc.shop.example:
  - TXT: "v=DMARC1; p=quarantine"
_dmarc.trial.example:
  - TXT: "v=DMARC1; p=reject; t=y"
_dmarc.relaxed.example:
  - TXT: "v=DMARC1; p=none"
_dmarc.slow.example:
  - TIMEOUT
)";

class DmarcCheckTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_THAT(zone_.load_text(kZone), testing::IsOk()); }

    DmarcCheck make(DmarcCheckSettings settings = {}) {
        auto evaluator = auth::dmarc::Evaluator::create(zone_, {});
        EXPECT_TRUE(evaluator.has_value());
        return DmarcCheck(std::make_shared<auth::dmarc::Evaluator>(std::move(*evaluator)),
                          settings);
    }

    // A message From: `from` whose SPF result for `spf_domain` and DKIM results are given.
    static Transaction tx(const char* from, auth::spf::Result spf, const char* spf_domain,
                          std::vector<auth::dkim::SignatureResult> dkim = {}) {
        Transaction t;
        t.message.headers = {{"From", std::string(" ") + from}, {"Subject", " hello"}};
        auth::spf::Outcome o;
        o.result = spf;
        o.domain = spf_domain;
        t.message.spf = o;
        t.message.dkim = std::move(dkim);
        t.message.dkim_evaluated = true;
        return t;
    }

    static auth::dkim::SignatureResult signature(auth::dkim::Result r, const char* d) {
        auth::dkim::SignatureResult s;
        s.result = r;
        s.domain = d;
        s.selector = "s1";
        return s;
    }

    dns::StaticResolver zone_;
};

TEST_F(DmarcCheckTest, RejectPolicyFailureIsRefusedWithAReplyNamingTheDomainAndWhatFailed) {
    const auto check = make();
    auto t = tx("CEO <ceo@bank.example>", auth::spf::Result::Pass, "mailer.other.example",
                {signature(auth::dkim::Result::Fail, "bank.example")});
    const Decision d = check.evaluate(t);
    EXPECT_EQ(d.action, Action::Reject);
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->code, 550);
    EXPECT_EQ(d.reply->enhanced, "5.7.1");
    const std::string text = d.reply->summary();
    EXPECT_THAT(text, HasSubstr("bank.example publishes a DMARC policy of reject"));
    EXPECT_THAT(text, HasSubstr("SPF pass for mailer.other.example"));
    EXPECT_THAT(text, HasSubstr("no DKIM signature verified"));
    ASSERT_TRUE(t.message.dmarc.has_value());
    EXPECT_EQ(t.message.dmarc->result, auth::dmarc::Result::Fail);
    EXPECT_EQ(t.message.dmarc->header_from, "bank.example");
}

TEST_F(DmarcCheckTest, AnAlignedDkimPassPassesEvenWhenSpfFails) {
    const auto check = make();
    auto t = tx("ceo@bank.example", auth::spf::Result::Fail, "bank.example",
                {signature(auth::dkim::Result::Pass, "bank.example")});
    const Decision d = check.evaluate(t);
    EXPECT_EQ(d.action, Action::Continue);
    EXPECT_EQ(t.message.dmarc->result, auth::dmarc::Result::Pass);
}

TEST_F(DmarcCheckTest, QuarantinePolicyFailureIsQuarantinedOrTaggedPerConfig) {
    auto t = tx("a@shop.example", auth::spf::Result::Fail, "shop.example");
    EXPECT_EQ(make().evaluate(t).action, Action::Quarantine);

    DmarcCheckSettings tag;
    tag.on_quarantine = DmarcEnforcement::Tag;
    auto t2 = tx("a@shop.example", auth::spf::Result::Fail, "shop.example");
    const Decision d = make(tag).evaluate(t2);
    EXPECT_TRUE(d.warn_only);
    ASSERT_EQ(d.headers.size(), 1u);
    EXPECT_EQ(d.headers[0].name, "X-Mailwarden-DMARC");
    EXPECT_THAT(d.headers[0].value, HasSubstr("fail"));
    EXPECT_THAT(d.headers[0].value, HasSubstr("shop.example"));
}

TEST_F(DmarcCheckTest, TestingModeLowersRejectToQuarantine) {
    auto t = tx("a@trial.example", auth::spf::Result::Fail, "trial.example");
    EXPECT_EQ(make().evaluate(t).action, Action::Quarantine);
}

TEST_F(DmarcCheckTest, PolicyNoneFailureIsOnlyRecorded) {
    auto t = tx("a@relaxed.example", auth::spf::Result::Fail, "relaxed.example");
    const Decision d = make().evaluate(t);
    EXPECT_EQ(d.action, Action::Continue);
    EXPECT_EQ(t.message.dmarc->result, auth::dmarc::Result::Fail);
}

TEST_F(DmarcCheckTest, EnforcementNoneDeliversButRecordsWhatThePolicyAskedFor) {
    DmarcCheckSettings none;
    none.on_reject = DmarcEnforcement::None;
    none.on_quarantine = DmarcEnforcement::None;
    auto t = tx("ceo@bank.example", auth::spf::Result::Fail, "bank.example");
    const Decision d = make(none).evaluate(t);
    EXPECT_EQ(d.action, Action::Reject);
    EXPECT_TRUE(d.warn_only) << "recorded as warn:reject, delivered";
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->code, 550);
    auto t2 = tx("a@shop.example", auth::spf::Result::Fail, "shop.example");
    const Decision q = make(none).evaluate(t2);
    EXPECT_EQ(q.action, Action::Quarantine);
    EXPECT_TRUE(q.warn_only);
}

TEST_F(DmarcCheckTest, TemperrorContinuesByDefaultAndTempfailsWhenConfigured) {
    auto t = tx("a@slow.example", auth::spf::Result::Fail, "slow.example");
    EXPECT_EQ(make().evaluate(t).action, Action::Continue);
    EXPECT_EQ(t.message.dmarc->result, auth::dmarc::Result::TempError);
    DmarcCheckSettings s;
    s.on_temperror = Action::Tempfail;
    auto t2 = tx("a@slow.example", auth::spf::Result::Fail, "slow.example");
    const Decision d = make(s).evaluate(t2);
    EXPECT_EQ(d.action, Action::Tempfail);
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->code, 451);
}

TEST_F(DmarcCheckTest, WarnModeRecordsButDoesNotRefuse) {
    DmarcCheckSettings s;
    s.warn_only = true;
    auto t = tx("ceo@bank.example", auth::spf::Result::Fail, "bank.example");
    const Decision d = make(s).evaluate(t);
    EXPECT_EQ(d.action, Action::Reject);
    EXPECT_TRUE(d.warn_only);
}

TEST_F(DmarcCheckTest, TwoFromFieldsArePermerrorAndNotEnforced) {
    auto t = tx("ceo@bank.example", auth::spf::Result::Fail, "bank.example");
    t.message.headers.push_back({"From", " other@bank.example"});
    const Decision d = make().evaluate(t);
    EXPECT_EQ(d.action, Action::Continue);
    EXPECT_EQ(t.message.dmarc->result, auth::dmarc::Result::PermError);
}

TEST_F(DmarcCheckTest, OutboundMailIsNotCheckedUnlessConfigured) {
    const auto check = make();
    Transaction t = tx("ceo@bank.example", auth::spf::Result::Fail, "bank.example");
    t.message.direction = Direction::Outbound;
    auto run = check.start(t);
    EXPECT_EQ(run->on(Stage::EndOfMessage, t).action, Action::Continue);
    EXPECT_FALSE(t.message.dmarc.has_value());
}

}  // namespace
}  // namespace mailwarden::policy
