#include "milter/session.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_mta_context.hpp"

namespace mailwarden::milter {
namespace {

using mailwarden::testing::FakeClock;
using mailwarden::testing::FakeMtaContext;
using ::testing::HasSubstr;

class SessionTest : public ::testing::Test {
  protected:
    void use_config(std::string_view yaml) {
        auto loaded = config::load_string(yaml, "session.yaml");
        ASSERT_TRUE(loaded.has_value()) << config::describe(loaded.error());
        auto cfg = std::make_shared<const config::Config>(std::move(*loaded));
        runtime_ = *build_runtime(cfg);
    }
    void SetUp() override {
        use_config(R"(
hostname: mx.test
spf: { enabled: false }  # unit tests ask no DNS
dkim: { enabled: false }
dmarc: { enabled: false }
preflight: { enabled: false }
trusted_networks: ["10.0.0.0/8"]
access_list:
  - sender: ["blocked@remote.test"]
    action: reject
    reply: "Go away.\nReally."
  - recipient: ["noone@local.test"]
    action: reject
    enhanced: "5.1.1"
    reply: "no such user"
  - sender: ["suspicious@remote.test"]
    action: quarantine
  - sender: ["watched@remote.test"]
    action: reject
    mode: warn
)");
        services_.runtime = [this] { return runtime_; };
        services_.record = [this](std::vector<store::Event> events) {
            for (auto& e : events) {
                events_.push_back(std::move(e));
            }
        };
        services_.clock = &clock_;
        services_.messages_in_flight = &in_flight_;
        services_.draining = &draining_;
        session_ = std::make_unique<Session>(services_);
        session_->on_connect(mta_, "client.remote.test", *util::IpAddress::parse("203.0.113.5"),
                             40000);
        session_->on_helo(mta_, "client.remote.test");
    }

    Outcome mail(const char* from) {
        const std::vector<std::string> args{from};
        return session_->on_mail(mta_, args);
    }
    Outcome rcpt(const char* to) {
        const std::vector<std::string> args{to};
        return session_->on_rcpt(mta_, args);
    }
    Outcome eom() {
        mta_.macros["i"] = "4ABCDEF";
        return session_->on_end_of_message(mta_);
    }

    std::shared_ptr<const Runtime> runtime_;
    SessionServices services_;
    FakeClock clock_;
    std::atomic<int> in_flight_{0};
    std::atomic<bool> draining_{false};
    std::vector<store::Event> events_;
    FakeMtaContext mta_;
    std::unique_ptr<Session> session_;
};

TEST_F(SessionTest, AcceptedMessageGetsTheStatusHeaderAndNoEvent) {
    EXPECT_EQ(mail("<alice@remote.test>"), Outcome::Continue);
    EXPECT_EQ(in_flight_.load(), 1);
    EXPECT_EQ(rcpt("<bob@local.test>"), Outcome::Continue);
    EXPECT_EQ(eom(), Outcome::Accept);
    EXPECT_EQ(in_flight_.load(), 0);
    ASSERT_EQ(mta_.added_headers.size(), 1u);
    EXPECT_EQ(mta_.added_headers[0].first, "X-Mailwarden");
    EXPECT_EQ(mta_.added_headers[0].second, "mx.test (mailwarden 0.1.0); inbound; accepted");
    EXPECT_TRUE(events_.empty());
}

TEST_F(SessionTest, BlockedSenderIsRefusedWithTheReplyAndRecorded) {
    EXPECT_EQ(mail("<blocked@remote.test>"), Outcome::Reject);
    ASSERT_TRUE(mta_.reply.has_value());
    EXPECT_EQ(mta_.reply->to_wire(), "550-5.7.1 Go away.\r\n550 5.7.1 Really.\r\n");
    ASSERT_EQ(events_.size(), 1u);
    const auto& e = events_[0];
    EXPECT_EQ(e.kind, "decision");
    EXPECT_EQ(e.queue_id, "NOQUEUE");
    EXPECT_EQ(e.stage, "mail");
    EXPECT_EQ(e.check, "access_list");
    EXPECT_EQ(e.action, "reject");
    EXPECT_EQ(e.reply_code, 550);
    EXPECT_EQ(e.enhanced_code, "5.7.1");
    EXPECT_EQ(e.reply_text, "Go away. / Really.");
    EXPECT_EQ(e.sender, "blocked@remote.test");
    EXPECT_EQ(e.client_address, "203.0.113.5");
    EXPECT_EQ(e.direction, "inbound");
    EXPECT_EQ(e.node, "mx.test");
    // The MTA ends the transaction; the next MAIL starts afresh.
    session_->on_abort();
    EXPECT_EQ(in_flight_.load(), 0);
}

TEST_F(SessionTest, RecipientRefusalKeepsTheOtherRecipients) {
    EXPECT_EQ(mail("<alice@remote.test>"), Outcome::Continue);
    EXPECT_EQ(rcpt("<noone@local.test>"), Outcome::Reject);
    EXPECT_EQ(mta_.reply->to_wire(), "550 5.1.1 no such user\r\n");
    EXPECT_EQ(rcpt("<bob@local.test>"), Outcome::Continue);
    EXPECT_EQ(eom(), Outcome::Accept);
    ASSERT_EQ(session_->transaction().message.recipients.size(), 1u);
    ASSERT_EQ(events_.size(), 1u);
    EXPECT_EQ(events_[0].recipients, std::vector<std::string>{"noone@local.test"});
}

TEST_F(SessionTest, QuarantineIsAppliedAtEndOfMessage) {
    EXPECT_EQ(mail("<suspicious@remote.test>"), Outcome::Continue);
    EXPECT_EQ(rcpt("<bob@local.test>"), Outcome::Continue);
    EXPECT_FALSE(mta_.quarantined.has_value());
    EXPECT_EQ(eom(), Outcome::Accept);
    ASSERT_TRUE(mta_.quarantined.has_value());
    EXPECT_THAT(*mta_.quarantined, HasSubstr("access_list"));
    EXPECT_THAT(mta_.added_headers.at(0).second, HasSubstr("held"));
    ASSERT_EQ(events_.size(), 1u);
    EXPECT_EQ(events_[0].action, "quarantine");
    EXPECT_EQ(events_[0].queue_id, "4ABCDEF");
}

TEST_F(SessionTest, WarnModeRecordsButAccepts) {
    EXPECT_EQ(mail("<watched@remote.test>"), Outcome::Continue);
    EXPECT_FALSE(mta_.reply.has_value());
    EXPECT_EQ(eom(), Outcome::Accept);
    ASSERT_EQ(events_.size(), 1u) << "recorded once, at its stage";
    EXPECT_EQ(events_[0].action, "warn:reject");
}

TEST_F(SessionTest, AuthenticatedOrTrustedClientsAreOutbound) {
    mta_.macros["{auth_authen}"] = "alice@local.test";
    mail("<alice@local.test>");
    EXPECT_EQ(session_->transaction().message.direction, policy::Direction::Outbound);
    EXPECT_EQ(session_->transaction().message.auth_login, "alice@local.test");
    session_->on_abort();
    mta_.macros.erase("{auth_authen}");
    Session trusted(services_);
    trusted.on_connect(mta_, "inside", *util::IpAddress::parse("::ffff:10.1.2.3"), 1);
    const std::vector<std::string> args{"<x@local.test>"};
    trusted.on_mail(mta_, args);
    EXPECT_EQ(trusted.transaction().message.direction, policy::Direction::Outbound);
    EXPECT_EQ(trusted.transaction().connection.client_ip->to_string(), "10.1.2.3");
}

TEST_F(SessionTest, NonSmtpRefusalWaitsForEndOfMessageAndBouncesAreNeverRefused) {
    // sendmail(1)/pickup mail: Postfix sends the address without brackets.
    EXPECT_EQ(mail("blocked@remote.test"), Outcome::Continue);
    EXPECT_EQ(rcpt("bob@local.test"), Outcome::Continue);
    EXPECT_EQ(eom(), Outcome::Reject) << "refused at end of message: Postfix bounces it";
    // A DSN (null sender as the empty string) with a matching recipient rule: accepted.
    mta_.reply.reset();
    EXPECT_EQ(mail(""), Outcome::Continue);
    EXPECT_EQ(rcpt("noone@local.test"), Outcome::Continue);
    EXPECT_EQ(eom(), Outcome::Accept);
}

TEST_F(SessionTest, ReloadAppliesFromTheNextMessage) {
    mail("<blocked@remote.test>");
    session_->on_abort();
    use_config(
        "hostname: mx2.test\nspf: { enabled: false }\ndkim: { enabled: false }\n"
        "dmarc: { enabled: false }\npreflight: { enabled: false }\n");
    EXPECT_EQ(mail("<blocked@remote.test>"), Outcome::Continue);
    EXPECT_EQ(eom(), Outcome::Accept);
    EXPECT_THAT(mta_.added_headers.back().second, HasSubstr("mx2.test"));
}

TEST_F(SessionTest, AbsentMacrosAndGarbageAddressesAreHandled) {
    EXPECT_EQ(mail("<unterminated@"), Outcome::Continue);
    EXPECT_EQ(rcpt(""), Outcome::Continue);
    mta_.fail_header_calls = true;  // header action not negotiated: logged, still accepted
    EXPECT_EQ(session_->on_end_of_message(mta_), Outcome::Accept);
    // RCPT and EOM without MAIL (a broken MTA) decide nothing.
    Session fresh(services_);
    const std::vector<std::string> args{"<x@y>"};
    EXPECT_EQ(fresh.on_rcpt(mta_, args), Outcome::Continue);
    EXPECT_EQ(fresh.on_end_of_message(mta_), Outcome::Accept);
}

TEST_F(SessionTest, WhileStoppingNewMessagesAreTempfailedAndTheOneInFlightFinishes) {
    EXPECT_EQ(mail("<alice@remote.test>"), Outcome::Continue);
    draining_ = true;
    EXPECT_EQ(rcpt("<bob@local.test>"), Outcome::Continue);
    EXPECT_EQ(eom(), Outcome::Accept) << "the message in flight completes";
    EXPECT_EQ(in_flight_.load(), 0);
    EXPECT_EQ(mail("<carol@remote.test>"), Outcome::Tempfail);
    ASSERT_TRUE(mta_.reply.has_value());
    EXPECT_EQ(mta_.reply->code, 451);
    EXPECT_EQ(mta_.reply->enhanced, "4.3.2");
    EXPECT_EQ(in_flight_.load(), 0);
}

TEST_F(SessionTest, DestroyingASessionMidMessageReleasesTheInFlightCount) {
    mail("<alice@remote.test>");
    EXPECT_EQ(in_flight_.load(), 1);
    session_.reset();
    EXPECT_EQ(in_flight_.load(), 0);
}

}  // namespace
}  // namespace mailwarden::milter
