#include "policy/checks/access_list_check.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "policy/pipeline.hpp"

namespace mailwarden::policy {
namespace {

std::vector<config::AccessRule> rules_from(std::string_view yaml) {
    auto loaded = config::load_string(yaml, "rules.yaml");
    EXPECT_TRUE(loaded.has_value()) << (loaded ? "" : config::describe(loaded.error()));
    return loaded ? loaded->access_list : std::vector<config::AccessRule>{};
}

Transaction tx_with(const char* sender, const char* client = "203.0.113.9",
                    const char* helo = "mail.example.net") {
    Transaction tx;
    tx.connection.client_ip = *util::IpAddress::parse(client);
    tx.connection.client_name = "client.example.net";
    tx.connection.helo = helo;
    tx.message.mail_from = *smtp::parse_envelope_address(sender);
    return tx;
}

Decision at_rcpt(CheckRun& run, Transaction& tx, const char* rcpt) {
    tx.current_rcpt = *smtp::parse_envelope_address(rcpt);
    return run.on(Stage::Rcpt, tx);
}

TEST(AddressMatches, PatternForms) {
    struct Case {
        const char* pattern;
        const char* address;
        bool want;
    };
    const Case cases[] = {
        {"user@example.com", "user@example.com", true},
        {"user@example.com", "other@example.com", false},
        {"@example.com", "any@example.com", true},
        {"@example.com", "any@sub.example.com", false},
        {"example.com", "any@example.com", true},
        {".example.com", "any@sub.example.com", true},
        {".example.com", "any@example.com", false},
        {".example.com", "any@badexample.com", false},
        {"postmaster@", "postmaster@anywhere.test", true},
        {"postmaster@", "postmaster2@anywhere.test", false},
        {"<>", "", true},
        {"<>", "a@b.c", false},
        {"@example.com", "", false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(c.pattern) + " vs " + c.address);
        EXPECT_EQ(address_matches(c.pattern, c.address), c.want);
    }
}

TEST(AccessListCheck, SenderRuleRejectsAtMailFromWithTheConfiguredReply) {
    AccessListCheck check(rules_from(R"(
access_list:
  - name: blocked
    sender: ["Spammer@Example.COM", "@bad.test"]
    action: reject
    reply: "Mail from {sender} via {client} is refused.\nAsk postmaster."
)"));
    auto tx = tx_with("<spammer@example.com>");
    auto run = check.start(tx);
    const Decision d = run->on(Stage::MailFrom, tx);
    EXPECT_EQ(d.action, Action::Reject);
    ASSERT_TRUE(d.reply.has_value());
    EXPECT_EQ(d.reply->to_wire(),
              "550-5.7.1 Mail from spammer@example.com via 203.0.113.9 is refused.\r\n"
              "550 5.7.1 Ask postmaster.\r\n");
    EXPECT_NE(d.reason.find("'blocked'"), std::string::npos);

    auto ok = tx_with("<alice@good.test>");
    EXPECT_EQ(check.start(ok)->on(Stage::MailFrom, ok).action, Action::Continue);
    auto domain = tx_with("<anyone@bad.test>");
    EXPECT_EQ(check.start(domain)->on(Stage::MailFrom, domain).action, Action::Reject);
}

TEST(AccessListCheck, RecipientRuleRefusesOnlyThatRecipient) {
    AccessListCheck check(rules_from(R"(
access_list:
  - recipient: ["noone@local.test"]
    action: reject
    code: 550
    enhanced: "5.1.1"
    reply: "{recipient}: no such user"
)"));
    auto tx = tx_with("<a@b.test>");
    auto run = check.start(tx);
    EXPECT_EQ(run->on(Stage::MailFrom, tx).action, Action::Continue);
    const Decision refused = at_rcpt(*run, tx, "<noone@local.test>");
    EXPECT_EQ(refused.action, Action::Reject);
    EXPECT_EQ(refused.reply->to_wire(), "550 5.1.1 noone@local.test: no such user\r\n");
    EXPECT_EQ(at_rcpt(*run, tx, "<alice@local.test>").action, Action::Continue);
}

TEST(AccessListCheck, ClientAndHeloRulesAndDefaultsPerAction) {
    AccessListCheck check(rules_from(R"(
access_list:
  - client: ["192.0.2.0/24", "2001:db8::/32"]
    action: tempfail
  - helo: [".dynamic.example"]
    action: reject
)"));
    auto v4 = tx_with("<a@b.test>", "192.0.2.66");
    const Decision d = check.start(v4)->on(Stage::MailFrom, v4);
    EXPECT_EQ(d.action, Action::Tempfail);
    EXPECT_EQ(d.reply->code, 451);
    EXPECT_EQ(d.reply->enhanced, "4.7.1");

    auto mapped = tx_with("<a@b.test>", "2001:db8::5");
    EXPECT_EQ(check.start(mapped)->on(Stage::MailFrom, mapped).action, Action::Tempfail);

    auto helo = tx_with("<a@b.test>", "198.51.100.1", "host-1-2.dynamic.example");
    const Decision h = check.start(helo)->on(Stage::MailFrom, helo);
    EXPECT_EQ(h.action, Action::Reject);
    EXPECT_EQ(h.reply->code, 550);
}

TEST(AccessListCheck, FirstMatchWinsAndAllowEndsTheList) {
    AccessListCheck check(rules_from(R"(
access_list:
  - sender: ["vip@partner.test"]
    action: allow
  - sender: ["@partner.test"]
    action: reject
  - recipient: ["@local.test"]
    action: reject
)"));
    auto vip = tx_with("<vip@partner.test>");
    auto run = check.start(vip);
    const Decision d = run->on(Stage::MailFrom, vip);
    EXPECT_EQ(d.action, Action::Accept);
    EXPECT_FALSE(d.final);
    EXPECT_EQ(at_rcpt(*run, vip, "<x@local.test>").action, Action::Continue)
        << "an allow ends the access list for the message";

    auto other = tx_with("<other@partner.test>");
    EXPECT_EQ(check.start(other)->on(Stage::MailFrom, other).action, Action::Reject);
}

TEST(AccessListCheck, WarnModeIsMarked) {
    AccessListCheck check(rules_from(R"(
access_list:
  - sender: ["x@y.test"]
    action: reject
    mode: warn
)"));
    auto tx = tx_with("<x@y.test>");
    const Decision d = check.start(tx)->on(Stage::MailFrom, tx);
    EXPECT_EQ(d.action, Action::Reject);
    EXPECT_TRUE(d.warn_only);
}

TEST(Pipeline, EarlyRefusalsEndTheStageAndFinalAcceptStopsLaterChecks) {
    auto first = std::make_shared<AccessListCheck>(rules_from(R"(
access_list:
  - sender: ["boss@local.test"]
    action: allow
    final: true
)"));
    auto second = std::make_shared<AccessListCheck>(rules_from(R"(
access_list:
  - sender: ["@local.test"]
    action: reject
)"));
    Pipeline pipeline({first, second});
    EXPECT_TRUE(pipeline.stages().has(Stage::MailFrom));
    EXPECT_FALSE(pipeline.stages().has(Stage::Body));

    auto boss = tx_with("<boss@local.test>");
    auto run = pipeline.start(boss);
    EXPECT_EQ(run->run(Stage::MailFrom, boss).action, Action::Accept);
    const Verdict end = run->run(Stage::EndOfMessage, boss);
    EXPECT_EQ(end.action, Action::Accept);
    EXPECT_EQ(end.decisions.size(), 1u) << "the second check never ran after a final accept";

    auto worker = tx_with("<worker@local.test>");
    auto run2 = pipeline.start(worker);
    const Verdict v = run2->run(Stage::MailFrom, worker);
    EXPECT_EQ(v.action, Action::Reject);
    EXPECT_EQ(v.deciding_check, "access_list");
}

// A check that refuses when it sees a header: stands for a future header-based check.
class RefuseAtHeader final : public Check {
  public:
    std::string_view name() const override { return "header_refuser"; }
    StageMask stages() const override { return {Stage::Header, Stage::EndOfMessage}; }
    std::unique_ptr<CheckRun> start(const Transaction&) const override {
        struct Run final : CheckRun {
            Decision on(Stage stage, Transaction&) override {
                Decision d;
                if (stage == Stage::Header) {
                    d.action = Action::Reject;
                    d.reply = smtp::Reply{550, "5.7.1", {"bad header"}};
                }
                return d;
            }
        };
        return std::make_unique<Run>();
    }
};

TEST(Pipeline, ARefusalAtANoReplyStageTakesEffectAtEndOfMessage) {
    Pipeline pipeline({std::make_shared<RefuseAtHeader>()});
    auto tx = tx_with("<a@b.test>");
    auto run = pipeline.start(tx);
    EXPECT_EQ(run->run(Stage::Header, tx).action, Action::Continue)
        << "nothing to answer at a header";
    const Verdict end = run->run(Stage::EndOfMessage, tx);
    EXPECT_EQ(end.action, Action::Reject);
    ASSERT_TRUE(end.reply.has_value());
    EXPECT_EQ(end.reply->lines, std::vector<std::string>{"bad header"});
}

}  // namespace
}  // namespace mailwarden::policy
