// preflight_check_test.cpp - the outbound DMARC preflight: a message that will fail DMARC
// at a receiver enforcing p=reject is warned about, tagged or refused with the plain reply;
// SPF-authorised and aligned or DKIM-signed mail passes; inbound mail is not touched.
#include "policy/checks/preflight_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dns/static_resolver.hpp"
#include "support/fake_clock.hpp"
#include "support/matchers.hpp"

namespace mailwarden::policy {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kZone = R"(
bank.example:
  - TXT: "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.bank.example:
  - TXT: "v=DMARC1; p=reject"
ours.example:
  - TXT: "v=spf1 ip4:198.51.100.7 -all"
_dmarc.ours.example:
  - TXT: "v=DMARC1; p=quarantine"
open.example:
  - TXT: "v=spf1 -all"
)";

class PreflightCheckTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_THAT(zone_->load_text(kZone), testing::IsOk()); }

    std::unique_ptr<PreflightCheck> make(PreflightAction action,
                                         std::vector<std::string> signing = {}) {
        auto dmarc = auth::dmarc::Evaluator::create(*zone_, {});
        EXPECT_TRUE(dmarc.has_value());
        auto spf = std::make_shared<auth::spf::Evaluator>(*zone_, clock_);
        auth::PreflightSettings site;
        site.outbound_ips = {*util::Cidr::parse("198.51.100.7")};
        site.dkim_signing_domains = std::move(signing);
        PreflightCheckSettings s;
        s.action = action;
        return std::make_unique<PreflightCheck>(
            std::make_shared<auth::dmarc::Evaluator>(std::move(*dmarc)), spf, site, s);
    }

    static Transaction outbound(const char* from, const char* envelope) {
        Transaction t;
        t.message.direction = Direction::Outbound;
        t.message.mail_from = *smtp::parse_envelope_address(envelope);
        t.message.headers = {{"From", std::string(" ") + from}};
        return t;
    }

    std::shared_ptr<dns::StaticResolver> zone_ = std::make_shared<dns::StaticResolver>();
    testing::FakeClock clock_;
};

TEST_F(PreflightCheckTest, SpoofedRejectDomainIsRefusedWithThePlainLanguageReply) {
    auto check = make(PreflightAction::Reject);
    const Decision d = check->evaluate(outbound("CEO <ceo@bank.example>", "<ceo@bank.example>"));
    EXPECT_EQ(d.action, Action::Reject);
    EXPECT_FALSE(d.warn_only);
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->code, 550);
    EXPECT_THAT(d.reply->summary(),
                HasSubstr("Your message From: ceo@bank.example would be rejected by the "
                          "recipients: bank.example publishes a DMARC reject policy and this "
                          "server is not authorised to send for it"));
    EXPECT_THAT(d.reason, HasSubstr("198.51.100.7"));
}

TEST_F(PreflightCheckTest, WarnModeRecordsAndHeaderModeTags) {
    const Decision warn =
        make(PreflightAction::Warn)->evaluate(outbound("ceo@bank.example", "<ceo@bank.example>"));
    EXPECT_TRUE(warn.warn_only);
    EXPECT_TRUE(warn.headers.empty());
    const Decision tag =
        make(PreflightAction::Header)->evaluate(outbound("ceo@bank.example", "<ceo@bank.example>"));
    EXPECT_TRUE(tag.warn_only);
    ASSERT_EQ(tag.headers.size(), 1u);
    EXPECT_THAT(tag.headers[0].value, HasSubstr("would-fail"));
}

TEST_F(PreflightCheckTest, AuthorisedAndAlignedEnvelopePasses) {
    const Decision d = make(PreflightAction::Reject)
                           ->evaluate(outbound("me@ours.example", "<bounces@ours.example>"));
    EXPECT_EQ(d.action, Action::Continue);
    EXPECT_THAT(d.reason, HasSubstr("pass"));
}

TEST_F(PreflightCheckTest, AConfiguredSignerForTheDomainMakesItPass) {
    const Decision d = make(PreflightAction::Reject, {"bank.example"})
                           ->evaluate(outbound("ceo@bank.example", "<ceo@bank.example>"));
    EXPECT_EQ(d.action, Action::Continue);
}

TEST_F(PreflightCheckTest, AnAlignedSignatureAlreadyOnTheMessageCounts) {
    Transaction t = outbound("ceo@bank.example", "<ceo@bank.example>");
    t.message.headers.push_back(
        {"DKIM-Signature", " v=1; a=rsa-sha256; d=Bank.Example;\r\n\ts=s1; h=from; bh=x; b=y"});
    EXPECT_EQ(make(PreflightAction::Reject)->evaluate(t).action, Action::Continue);
    EXPECT_EQ(signature_domains(t.message), std::vector<std::string>{"bank.example"});
}

TEST_F(PreflightCheckTest, DomainsWithoutEnforcingPolicyAreLeftAlone) {
    const Decision d =
        make(PreflightAction::Reject)->evaluate(outbound("me@open.example", "<me@open.example>"));
    EXPECT_EQ(d.action, Action::Continue);
}

TEST_F(PreflightCheckTest, InboundMailIsNotChecked) {
    auto check = make(PreflightAction::Reject);
    Transaction t = outbound("ceo@bank.example", "<ceo@bank.example>");
    t.message.direction = Direction::Inbound;
    auto run = check->start(t);
    EXPECT_EQ(run->on(Stage::EndOfMessage, t).action, Action::Continue);
}

}  // namespace
}  // namespace mailwarden::policy
