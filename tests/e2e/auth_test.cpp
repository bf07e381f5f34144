// auth_test.cpp - SPF, DKIM, DMARC and Authentication-Results end to end: a private real
// Postfix with mailwarden in smtpd_milters, remote clients made with XCLIENT, messages
// signed by dkimpy, DNS answered from a static zone so no query leaves the machine. A
// DMARC p=reject failure is refused over SMTP with the explanation; a passing message is
// delivered with exactly one Authentication-Results header, the forged one removed.
#include <unistd.h>

#include <fmt/format.h>

#include <iostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_fixture.hpp"
#include "support/dkim_signer.hpp"
#include "support/postfix_instance.hpp"
#include "support/smtp_client.hpp"
#include "support/temp_dir.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kConfig = R"(listen: "inet:@PORT@@127.0.0.1"
store: { backend: memory }
events: { journal: @DIR@/events.journal }
control: { enabled: false }
hostname: mx.local.test
dns: { zone_file: @ZONE@ }
)";

// Occurrences of `needle` in `text`.
int count(const std::string& text, std::string_view needle) {
    int n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

class AuthPostfixTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (auto reason = postfix_unavailable_reason()) {
            GTEST_SKIP() << "end-to-end test skipped: " << *reason;
        }
        if (auto reason = dkimpy_unavailable_reason()) {
            GTEST_SKIP() << "end-to-end DKIM test skipped: " << *reason;
        }
        auto signer = DkimSigner::create(dir_.path(), "signed.test", "e2e");
        ASSERT_TRUE(signer.has_value()) << signer.error().message;
        signer_.emplace(std::move(*signer));
        const auto zone =
            dir_.write("zone.yaml", fmt::format(R"(
{}:
  - TXT: "{}"
signed.test:
  - TXT: "v=spf1 -all"
_dmarc.signed.test:
  - TXT: "v=DMARC1; p=reject"
bank.test:
  - TXT: "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.bank.test:
  - TXT: "v=DMARC1; p=reject"
)",
                                                signer_->key_name(), signer_->key_record()));
        Daemon::Options options;
        options.vars = {{"@ZONE@", zone.string()}};
        auto d = Daemon::start(kConfig, options);
        ASSERT_TRUE(d.has_value()) << d.error().message;
        daemon_ = std::move(*d);
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
        auto c = postfix_->remote_client(address, "mail.sender.test");
        if (!c) {
            throw std::runtime_error(c.error().message);
        }
        return std::move(*c);
    }

    TempDir dir_{"mw-e2e-auth"};
    std::optional<DkimSigner> signer_;
    std::unique_ptr<Daemon> daemon_;
    std::unique_ptr<PostfixInstance> postfix_;
};

TEST_F(AuthPostfixTest, DmarcRejectFailureIsRefusedOverSmtpWithTheExplanation) {
    auto c = remote_client("198.51.100.7");
    auto t = c.send("ceo@bank.test", {"bob@local.test"},
                    make_message("ceo@bank.test", "bob@local.test", "wire transfer"));
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->mail.code, 250) << "an SPF fail waits for DMARC: " << t->mail.text();
    EXPECT_EQ(t->end_of_data.code, 550) << t->end_of_data.text();
    const std::string text = t->end_of_data.text();
    EXPECT_THAT(text, HasSubstr("5.7.1"));
    EXPECT_THAT(text, HasSubstr("bank.test publishes a DMARC policy of reject"));
}

TEST_F(AuthPostfixTest, SignedMessageIsDeliveredWithOneAuthenticationResultsAndNoForgery) {
    const std::string subject = fmt::format("signed report {}", ::getpid());
    const std::string body = "Hello Bob,\r\n\r\nthe report is below.\r\n";
    std::string header = fmt::format(
        "From: Alice <alice@signed.test>\r\nTo: bob@local.test\r\nSubject: {}\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <e2e-{}@signed.test>\r\n",
        subject, ::getpid());
    auto sig = signer_->sign(header + "\r\n" + body);
    ASSERT_TRUE(sig.has_value()) << sig.error().message;
    const std::string forged = "Authentication-Results: mx.local.test; dmarc=pass (forged)\r\n";
    const std::string message =
        "DKIM-Signature: " + *sig + "\r\n" + forged + header + "\r\n" + body;
    auto c = remote_client("198.51.100.7");
    auto t = c.send("alice@signed.test", {"bob@local.test"}, message);
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->end_of_data.code, 250) << t->end_of_data.text();
    const auto mail = postfix_->wait_for_mail("bob", subject);
    ASSERT_TRUE(mail.has_value()) << "not delivered to bob's Maildir";
    EXPECT_EQ(count(*mail, "Authentication-Results:"), 1) << *mail;
    EXPECT_THAT(*mail, Not(HasSubstr("(forged)")));
    EXPECT_THAT(*mail, HasSubstr("dkim=pass"));
    EXPECT_THAT(*mail, HasSubstr("dmarc=pass"));
    EXPECT_THAT(*mail, HasSubstr("spf=fail"));
}

}  // namespace
}  // namespace mailwarden::testing
