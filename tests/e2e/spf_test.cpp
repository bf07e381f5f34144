// spf_test.cpp - the SPF check end to end: a private real Postfix with mailwarden in
// smtpd_milters, clients made remote with XCLIENT, DNS answered from a static zone so no
// query leaves the machine. An SPF fail is refused over SMTP with the plain-language reply;
// a pass is delivered with a Received-SPF header.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_fixture.hpp"
#include "support/postfix_instance.hpp"
#include "support/smtp_client.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kZone = R"(
fail.test:
  - TXT: "v=spf1 ip4:192.0.2.0/24 -all"
pass.test:
  - TXT: "v=spf1 ip4:203.0.113.0/24 -all"
)";

constexpr std::string_view kConfig = R"(listen: "inet:@PORT@@127.0.0.1"
store: { backend: memory }
events: { journal: @DIR@/events.journal }
control: { enabled: false }
dns: { zone_file: zone.yaml }
spf: { authserv_id: mx.local.test }
)";

class SpfPostfixTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (auto reason = postfix_unavailable_reason()) {
            GTEST_SKIP() << "end-to-end test skipped: " << *reason;
        }
        // The zone must exist before the daemon reads its config: start on an empty config,
        // add the zone, then switch with a reload.
        auto d = Daemon::start(
            "listen: \"inet:@PORT@@127.0.0.1\"\nspf: { enabled: false }\n"
            "dkim: { enabled: false }\ndmarc: { enabled: false }\npreflight: { enabled: false }\n"
            "events: { journal: @DIR@/events.journal }\n"
            "control: { enabled: false }\n");
        ASSERT_TRUE(d.has_value()) << d.error().message;
        daemon_ = std::move(*d);
        std::ofstream(daemon_->dir() / "zone.yaml") << kZone;
        ASSERT_TRUE(daemon_->write_config(kConfig).has_value());
        ASSERT_THAT(daemon_->reload(), HasSubstr("configuration reloaded"));
        PostfixOptions po;
        po.milter = "inet:127.0.0.1:" + std::to_string(daemon_->port());
        auto pf = PostfixInstance::start(po);
        ASSERT_TRUE(pf.has_value()) << pf.error().message;
        postfix_ = std::move(*pf);
    }
    void TearDown() override {
        if (HasFailure() && postfix_) {
            std::cerr << "---- maillog\n" << postfix_->maillog();
        }
        if (HasFailure() && daemon_) {
            std::cerr << "---- daemon log\n" << daemon_->log();
        }
        postfix_.reset();
        daemon_.reset();
    }

    // An SMTP session that Postfix (and so the milter) sees as coming from `address`.
    SmtpClient remote_client(const std::string& address) {
        auto c = postfix_->remote_client(address, "client.example");
        if (!c) {
            throw std::runtime_error(c.error().message);
        }
        return std::move(*c);
    }

    std::unique_ptr<Daemon> daemon_;
    std::unique_ptr<PostfixInstance> postfix_;
};

TEST_F(SpfPostfixTest, FailIsRefusedOverSmtpWithThePlainReply) {
    auto c = remote_client("198.51.100.7");
    auto t = c.send("ceo@fail.test", {"bob@local.test"},
                    make_message("ceo@fail.test", "bob@local.test", "spf fail"));
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->mail.code, 550) << t->mail.text();
    const std::string text = t->mail.text();
    EXPECT_THAT(text, HasSubstr("5.7.23"));
    EXPECT_THAT(text, HasSubstr("fail.test"));
    EXPECT_THAT(text, HasSubstr("198.51.100.7"));
}

TEST_F(SpfPostfixTest, PassIsDeliveredWithReceivedSpf) {
    const std::string subject = "spf pass " + std::to_string(::getpid());
    auto c = remote_client("203.0.113.9");
    auto t = c.send("alice@pass.test", {"bob@local.test"},
                    make_message("alice@pass.test", "bob@local.test", subject));
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->mail.code, 250) << t->mail.text();
    EXPECT_EQ(t->end_of_data.code, 250) << t->end_of_data.text();
    const auto mail = postfix_->wait_for_mail("bob", subject);
    ASSERT_TRUE(mail.has_value()) << "not delivered to bob's Maildir";
    EXPECT_THAT(*mail, HasSubstr("Received-SPF: pass"));
    EXPECT_THAT(*mail, HasSubstr("203.0.113.9"));
}

}  // namespace
}  // namespace mailwarden::testing
