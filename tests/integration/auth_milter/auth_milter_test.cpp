// auth_milter_test.cpp - SPF, DKIM, DMARC and Authentication-Results in the real daemon,
// driven by the project's milter client. Messages are signed by an independent
// implementation (dkimpy) with keys made for the test; DNS answers come from a static zone.
#include <fmt/format.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_fixture.hpp"
#include "support/dkim_signer.hpp"
#include "support/milter_client.hpp"
#include "support/temp_dir.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr std::string_view kConfig = R"(listen: "inet:@PORT@@127.0.0.1"
store: { backend: memory }
events: { journal: @DIR@/events.journal }
control: { enabled: false }
hostname: mx.local.test
dns: { zone_file: @ZONE@ }
spf: { actions: { fail: reject } }
dmarc: { on_reject: reject, on_quarantine: quarantine }
authentication_results: { authserv_id: mx.local.test }
)";

struct Mail {
    std::string envelope;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body = "Hello Bob,\r\n\r\nthe figures are attached.\r\n";
    std::string client_ip = "198.51.100.7";
};

class AuthMilterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (auto reason = dkimpy_unavailable_reason()) {
            GTEST_SKIP() << "DKIM milter test skipped: " << *reason;
        }
        auto signer = DkimSigner::create(dir_.path(), "signed.test", "s2026");
        ASSERT_TRUE(signer.has_value()) << signer.error().message;
        signer_.emplace(std::move(*signer));
        const std::string zone = fmt::format(R"(
{}:
  - TXT: "{}"
signed.test:
  - TXT: "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.signed.test:
  - TXT: "v=DMARC1; p=reject"
bank.test:
  - TXT: "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.bank.test:
  - TXT: "v=DMARC1; p=reject; adkim=s"
shop.test:
  - TXT: "v=spf1 ip4:192.0.2.0/24 ~all"
_dmarc.shop.test:
  - TXT: "v=DMARC1; p=quarantine"
)",
                                             signer_->key_name(), signer_->key_record());
        const auto zone_file = dir_.write("zone.yaml", zone);
        Daemon::Options options;
        options.vars = {{"@ZONE@", zone_file.string()}};
        auto d = Daemon::start(kConfig, options);
        ASSERT_TRUE(d.has_value()) << d.error().message;
        daemon_ = std::move(*d);
    }

    // The message as a signer sees it: header fields, empty line, body.
    static std::string text_of(const Mail& m) {
        std::string text;
        for (const auto& [name, value] : m.headers) {
            text += name + ": " + value + "\r\n";
        }
        return text + "\r\n" + m.body;
    }

    MessageResult send(const Mail& m) {
        auto client = daemon_->connect();
        EXPECT_TRUE(client.has_value());
        if (!client) {
            return {};
        }
        ConnectInfo info;
        info.hostname = "mail.sender.test";
        info.address = m.client_ip;
        auto macros = PostfixMacros::defaults(info);
        EXPECT_TRUE(client->connect_stage(info, macros.connect).has_value());
        EXPECT_TRUE(client->helo("mail.sender.test", macros.helo).has_value());
        MessageSpec spec;
        spec.mail_args = {"<" + m.envelope + ">"};
        spec.rcpts = {{"<bob@local.test>"}};
        spec.headers = m.headers;
        spec.body = m.body;
        auto r = client->send_message(spec, macros);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        return r ? *r : MessageResult{};
    }

    Mail signed_mail() {
        Mail m;
        m.envelope = "alice@signed.test";
        m.headers = {{"From", "Alice <alice@signed.test>"},
                     {"To", "bob@local.test"},
                     {"Subject", "Quarterly figures"},
                     {"Date", "Mon, 23 Nov 2026 10:00:00 +0000"}};
        auto sig = signer_->sign(text_of(m));
        EXPECT_TRUE(sig.has_value()) << (sig ? "" : sig.error().message);
        m.headers.insert(m.headers.begin(), {"DKIM-Signature", sig.value_or("")});
        return m;
    }

    TempDir dir_{"mw-auth"};
    std::optional<DkimSigner> signer_;
    std::unique_ptr<Daemon> daemon_;
};

TEST_F(AuthMilterTest, SignedMailFromAnUnauthorisedServerPassesDmarcThroughDkim) {
    const auto r = send(signed_mail());
    EXPECT_EQ(r.final_action(), "accept") << r.decisive.text;
    const auto ar = r.added_header("Authentication-Results");
    ASSERT_TRUE(ar.has_value()) << "no Authentication-Results header";
    EXPECT_THAT(*ar, StartsWith("mx.local.test;"));
    EXPECT_THAT(*ar, HasSubstr("spf=fail"));
    EXPECT_THAT(*ar, HasSubstr("dkim=pass"));
    EXPECT_THAT(*ar, HasSubstr("header.d=signed.test"));
    EXPECT_THAT(*ar, HasSubstr("dmarc=pass"));
    EXPECT_THAT(*ar, HasSubstr("header.from=signed.test"));
}

TEST_F(AuthMilterTest, ABodyChangedAfterSigningFailsDkimAndDmarcRejectsWithAnExplanation) {
    Mail m = signed_mail();
    m.body = "Hello Bob,\r\n\r\nplease wire the money to the new account.\r\n";
    const auto r = send(m);
    EXPECT_EQ(r.final_action(), "reject");
    EXPECT_THAT(r.decisive.text, StartsWith("550"));
    EXPECT_THAT(r.decisive.text, HasSubstr("5.7.1"));
    EXPECT_THAT(r.decisive.text, HasSubstr("signed.test publishes a DMARC policy of reject"));
    EXPECT_THAT(r.decisive.text, HasSubstr("no DKIM signature verified"));
}

TEST_F(AuthMilterTest, BodyChunkBoundariesDoNotMatter) {
    Mail m = signed_mail();
    m.body.clear();
    for (int i = 0; i < 3000; ++i) {
        m.body += fmt::format("line {} of a long report   with  spaces \t\r\n", i);
    }
    m.headers.erase(m.headers.begin());  // re-sign over the new body
    auto sig = signer_->sign(text_of(m), "simple/simple");
    ASSERT_TRUE(sig.has_value());
    m.headers.insert(m.headers.begin(), {"DKIM-Signature", *sig});
    const auto r = send(m);  // > 64 KiB: several SMFIC_BODY chunks
    EXPECT_EQ(r.final_action(), "accept") << r.decisive.text;
    EXPECT_THAT(r.added_header("Authentication-Results").value_or(""), HasSubstr("dkim=pass"));
}

TEST_F(AuthMilterTest, ForgedAuthenticationResultsClaimingOurNameAreRemoved) {
    Mail m = signed_mail();
    m.headers.push_back(
        {"Authentication-Results", "mx.local.test; dmarc=pass header.from=bank.test"});
    m.headers.push_back({"Authentication-Results", "other.example; spf=pass"});
    const auto r = send(m);
    EXPECT_EQ(r.final_action(), "accept");
    int removed = 0;
    int ours = 0;
    for (const auto& e : r.header_edits) {
        if (e.kind == Modification::Kind::ChangeHeader && e.value.empty()) {
            EXPECT_EQ(e.name, "Authentication-Results");
            EXPECT_EQ(e.index, 1u) << "the first Authentication-Results field is the forged one";
            ++removed;
        }
        if (e.kind != Modification::Kind::ChangeHeader && e.name == "Authentication-Results") {
            ++ours;
        }
    }
    EXPECT_EQ(removed, 1);
    EXPECT_EQ(ours, 1) << "exactly one Authentication-Results header is added";
}

TEST_F(AuthMilterTest, UnsignedMailSpoofingARejectDomainIsRejected) {
    Mail m;
    m.envelope = "ceo@bank.test";
    m.headers = {{"From", "CEO <ceo@bank.test>"}, {"To", "bob@local.test"}, {"Subject", "urgent"}};
    const auto r = send(m);
    // SPF fails at MAIL FROM, but is left to DMARC (bank.test enforces); DMARC rejects.
    EXPECT_EQ(r.final_action(), "reject");
    EXPECT_EQ(r.decided_at, Stage::EndOfMessage);
    EXPECT_THAT(r.decisive.text, HasSubstr("bank.test publishes a DMARC policy of reject"));
}

TEST_F(AuthMilterTest, QuarantinePolicyFailureGoesToTheHoldQueue) {
    Mail m;
    m.envelope = "shop@shop.test";
    m.headers = {{"From", "shop@shop.test"}, {"To", "bob@local.test"}, {"Subject", "offer"}};
    const auto r = send(m);
    EXPECT_EQ(r.final_action(), "quarantine");
    EXPECT_THAT(r.added_header("Authentication-Results").value_or(""), HasSubstr("dmarc=fail"));
}

TEST_F(AuthMilterTest, MailFromAnAuthorisedServerPassesDmarcThroughSpf) {
    Mail m;
    m.envelope = "ceo@bank.test";
    m.client_ip = "192.0.2.25";
    m.headers = {{"From", "ceo@bank.test"}, {"To", "bob@local.test"}, {"Subject", "hi"}};
    const auto r = send(m);
    EXPECT_EQ(r.final_action(), "accept");
    const auto ar = r.added_header("Authentication-Results").value_or("");
    EXPECT_THAT(ar, HasSubstr("spf=pass"));
    EXPECT_THAT(ar, HasSubstr("dmarc=pass"));
    EXPECT_THAT(ar, Not(HasSubstr("dmarc=fail")));
}

}  // namespace
}  // namespace mailwarden::testing
