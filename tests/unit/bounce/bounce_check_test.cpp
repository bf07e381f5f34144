// bounce_check_test.cpp - the bounce check through the pipeline: a DSN is recognised,
// explained, recorded as outgoing failures and rewritten; it is never refused whatever the
// other checks say; oversize, unparsable and ordinary null-sender mail is left untouched.
#include "policy/checks/bounce_check.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "dsn/report.hpp"
#include "policy/pipeline.hpp"
#include "policy/report.hpp"
#include "support/paths.hpp"
#include "util/ascii.hpp"

namespace mailwarden::policy {
namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(testing::source_dir() / "tests" / "data" / "dsn" / name, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::shared_ptr<const explain::Catalog> catalog() {
    static const std::shared_ptr<const explain::Catalog> loaded = [] {
        auto result =
            explain::Catalog::load_file(testing::source_dir() / "conf" / "explanations.yaml");
        EXPECT_TRUE(result.has_value()) << result.error().describe();
        return std::make_shared<const explain::Catalog>(std::move(*result));
    }();
    return loaded;
}

// A whole message split as the MTA hands it to the milter: header fields, then the body.
struct Split {
    std::vector<HeaderField> headers;
    std::string body;
};

Split split(const std::string& message) {
    Split out;
    std::size_t pos = 0;
    while (pos < message.size()) {
        std::size_t end = message.find('\n', pos);
        if (end == std::string::npos) {
            end = message.size();
        }
        std::string line = message.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        pos = end + 1;
        if (line.empty()) {
            break;
        }
        if ((line[0] == ' ' || line[0] == '\t') && !out.headers.empty()) {
            out.headers.back().value += "\n" + line;
            continue;
        }
        const auto colon = line.find(':');
        out.headers.push_back({line.substr(0, colon), line.substr(colon + 1)});
    }
    out.body = pos < message.size() ? message.substr(pos) : "";
    return out;
}

// A check that refuses every message at end of message.
class RefuseAll final : public Check {
  public:
    explicit RefuseAll(Action action) : action_(action) {}
    std::string_view name() const override { return "refuse_all"; }
    StageMask stages() const override { return {Stage::EndOfMessage}; }
    std::unique_ptr<CheckRun> start(const Transaction&) const override {
        struct Run final : CheckRun {
            Action action;
            explicit Run(Action a) : action(a) {}
            Decision on(Stage, Transaction&) override {
                Decision d;
                d.action = action;
                d.reason = "refuses everything";
                return d;
            }
        };
        return std::make_unique<Run>(action_);
    }

  private:
    Action action_;
};

class RecordingSink final : public OutgoingFailureSink {
  public:
    void on_outgoing_failure(const OutgoingFailure& f) noexcept override {
        std::lock_guard lock(mutex);
        seen.push_back(f);
    }
    std::mutex mutex;
    std::vector<OutgoingFailure> seen;
};

struct Passage {
    Transaction tx;
    Verdict verdict;
};

// Sends `message` with the null sender to `rcpt` through a pipeline of `checks`.
Passage through(const std::vector<CheckPtr>& checks, const std::string& message,
                const char* sender = "", const char* rcpt = "alice@example.com",
                std::size_t chunk = 65535) {
    Pipeline pipeline(checks);
    Passage r;
    r.tx.connection.client_name = "localhost";
    r.tx.connection.client_ip = *util::IpAddress::parse("127.0.0.1");
    r.tx.connection.helo = "localhost";
    r.tx.message.queue_id = "DSNQID1";
    r.tx.message.raw_mail_from = sender;
    r.tx.message.mail_from = *smtp::parse_envelope_address(sender);
    auto run = pipeline.start(r.tx);
    run->run(Stage::MailFrom, r.tx);
    r.tx.current_rcpt = *smtp::parse_envelope_address(rcpt);
    run->run(Stage::Rcpt, r.tx);
    r.tx.message.recipients.push_back(r.tx.current_rcpt);
    const Split parts = split(message);
    for (const auto& h : parts.headers) {
        r.tx.message.headers.push_back(h);
        run->run(Stage::Header, r.tx);
    }
    run->run(Stage::EndOfHeaders, r.tx);
    for (std::size_t at = 0; at < parts.body.size(); at += chunk) {
        const std::string_view piece = std::string_view(parts.body).substr(at, chunk);
        run->body(std::as_bytes(std::span(piece.data(), piece.size())), r.tx);
    }
    r.verdict = run->run(Stage::EndOfMessage, r.tx);
    return r;
}

CheckPtr bounce_check(BounceCheckSettings settings = {}) {
    return std::make_shared<BounceCheck>(catalog(), std::move(settings));
}

std::optional<std::string> added(const Verdict& v, std::string_view name) {
    for (const auto& h : v.headers) {
        if (h.kind == HeaderEdit::Kind::Add && h.name == name) {
            return h.value;
        }
    }
    return std::nullopt;
}

TEST(BounceCheck, PostfixBounceIsExplainedRecordedAndRewritten) {
    auto sink = std::make_shared<RecordingSink>();
    BounceCheckSettings settings;
    settings.sink = sink;
    settings.login_for_sender = [](std::string_view sender) {
        return sender == "alice@example.com" ? std::string("alice") : std::string();
    };
    const Passage r = through({bounce_check(settings)}, fixture("postfix_user_unknown.eml"));

    EXPECT_EQ(r.tx.message.kind, MessageKind::DeliveryReport);
    EXPECT_EQ(r.verdict.action, Action::Continue);
    ASSERT_EQ(r.tx.message.outgoing_failures.size(), 1u);
    const OutgoingFailure& f = r.tx.message.outgoing_failures[0];
    EXPECT_EQ(f.original_sender, "alice@example.com");
    EXPECT_EQ(f.login, "alice");
    EXPECT_EQ(f.recipient, "bob@example.org");
    EXPECT_EQ(f.recipient_domain, "example.org");
    EXPECT_EQ(f.remote_host, "mx.example.org");
    EXPECT_EQ(f.enhanced_code, "5.1.1");
    EXPECT_EQ(f.reply_code, 550);
    EXPECT_EQ(f.category, "userunknown");
    EXPECT_EQ(f.action, "failed");
    EXPECT_TRUE(f.permanent);
    EXPECT_EQ(f.original_queue_id, "4F1A2B3C");
    EXPECT_EQ(f.original_message_id, "<report-42@example.com>");
    ASSERT_EQ(sink->seen.size(), 1u);
    EXPECT_EQ(sink->seen[0].recipient, "bob@example.org");

    EXPECT_EQ(added(r.verdict, "X-Mailwarden-Explanation"), "userunknown");
    ASSERT_TRUE(r.verdict.body.has_value());
    const std::string& body = *r.verdict.body;
    // Our explanation comes first, the MTA's own notification after it.
    const auto ours = body.find("Why your message was not delivered");
    const auto theirs = body.find("This is the mail system at host mx.example.com.");
    ASSERT_NE(ours, std::string::npos) << body;
    ASSERT_NE(theirs, std::string::npos) << body;
    EXPECT_LT(ours, theirs);
    EXPECT_NE(body.find("* bob@example.org"), std::string::npos) << body;
    // The top-level boundary is kept (the Content-Type header stays valid) and the
    // machine-readable parts are intact.
    EXPECT_NE(body.find("--4F1A2B3C.1700000000/mx.example.com\r\n"), std::string::npos);
    EXPECT_NE(body.find("Final-Recipient: rfc822; bob@example.org\r\n"
                        "Original-Recipient: rfc822;Bob@Example.org\r\n"
                        "Action: failed\r\n"
                        "Status: 5.1.1\r\n"),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("Message-ID: <report-42@example.com>\r\n"), std::string::npos);
    EXPECT_EQ(body.find("\n\n"), std::string::npos) << "bare LF in a milter body";

    // The rewritten bounce is still the same report for a machine.
    std::string rewritten;
    for (const auto& h : split(fixture("postfix_user_unknown.eml")).headers) {
        rewritten += h.name + ":" + h.value + "\r\n";
    }
    rewritten += "\r\n" + body;
    auto again = dsn::parse_dsn(rewritten);
    ASSERT_TRUE(again.has_value()) << again.error().describe();
    EXPECT_EQ(again->format, dsn::ReportFormat::DeliveryStatus);
    ASSERT_EQ(again->recipients.size(), 1u);
    EXPECT_EQ(again->recipients[0].final_recipient, "bob@example.org");
    EXPECT_EQ(again->recipients[0].status, "5.1.1");
    EXPECT_EQ(again->original.message_id, "<report-42@example.com>");
}

TEST(BounceCheck, EventsCarryTheFailureForTheOriginalMessage) {
    const Passage r = through({bounce_check()}, fixture("postfix_user_unknown.eml"));
    const auto events = outgoing_failure_events(r.tx, util::SystemTime{}, "node1");
    ASSERT_EQ(events.size(), 1u);
    const store::Event& e = events[0];
    EXPECT_EQ(e.kind, "outgoing_failure");
    EXPECT_EQ(e.queue_id, "4F1A2B3C");
    EXPECT_EQ(e.report_queue_id, "DSNQID1");
    EXPECT_EQ(e.sender, "alice@example.com");
    EXPECT_EQ(e.category, "userunknown");
    EXPECT_EQ(e.enhanced_code, "5.1.1");
    EXPECT_EQ(e.reply_code, 550);
    EXPECT_EQ(e.remote_host, "mx.example.org");
    EXPECT_EQ(e.message_id, "<report-42@example.com>");
    EXPECT_EQ(e.recipients, std::vector<std::string>{"bob@example.org"});
    EXPECT_EQ(e.direction, "outbound");
    EXPECT_EQ(e.node, "node1");
}

TEST(BounceCheck, ADeliveryReportIsNeverRefusedOrDiscardedWhateverOtherChecksSay) {
    for (Action action : {Action::Reject, Action::Tempfail, Action::Discard}) {
        SCOPED_TRACE(std::string(to_string(action)));
        const Passage r = through({std::make_shared<RefuseAll>(action), bounce_check()},
                                  fixture("postfix_user_unknown.eml"));
        EXPECT_FALSE(r.verdict.refuses());
        EXPECT_EQ(r.verdict.action, Action::Continue);
        EXPECT_TRUE(r.verdict.body.has_value());
        ASSERT_FALSE(r.verdict.decisions.empty());
        EXPECT_TRUE(r.verdict.decisions[0].warn_only) << "recorded as a warning";
        // The same check on an ordinary message still refuses.
        const Passage ordinary = through({std::make_shared<RefuseAll>(action), bounce_check()},
                                         fixture("not_a_bounce.eml"), "<someone@example.net>");
        EXPECT_EQ(ordinary.verdict.action, action);
    }
    // Quarantine is allowed: nothing is lost.
    const Passage held = through({std::make_shared<RefuseAll>(Action::Quarantine), bounce_check()},
                                 fixture("postfix_user_unknown.eml"));
    EXPECT_EQ(held.verdict.action, Action::Quarantine);
}

TEST(BounceCheck, RewriteOffStillRecordsButLeavesTheBody) {
    BounceCheckSettings settings;
    settings.rewrite = false;
    const Passage r = through({bounce_check(settings)}, fixture("postfix_user_unknown.eml"));
    EXPECT_EQ(r.tx.message.outgoing_failures.size(), 1u);
    EXPECT_FALSE(r.verdict.body.has_value());
    EXPECT_TRUE(r.verdict.headers.empty());
}

TEST(BounceCheck, OversizeBounceIsLeftUntouchedButStillNeverRefused) {
    BounceCheckSettings settings;
    settings.max_bytes = 100;  // the fixture's body is larger
    const Passage r = through({std::make_shared<RefuseAll>(Action::Reject), bounce_check(settings)},
                              fixture("postfix_user_unknown.eml"), "", "alice@example.com", 64);
    EXPECT_EQ(r.tx.message.kind, MessageKind::DeliveryReport) << "the header says report";
    EXPECT_TRUE(r.tx.message.outgoing_failures.empty());
    EXPECT_FALSE(r.verdict.body.has_value());
    EXPECT_FALSE(r.verdict.refuses());
}

TEST(BounceCheck, MailWithASenderIsNotLookedAt) {
    const Passage r = through({bounce_check()}, fixture("postfix_user_unknown.eml"),
                              "<alice@example.com>", "<bob@example.org>");
    EXPECT_EQ(r.tx.message.kind, MessageKind::Ordinary);
    EXPECT_TRUE(r.tx.message.outgoing_failures.empty());
    EXPECT_FALSE(r.verdict.body.has_value());
}

TEST(BounceCheck, OrdinaryNullSenderMailAndAutoRepliesAreLeftAlone) {
    for (const char* name : {"not_a_bounce.eml", "vacation.eml", "arf_abuse.eml"}) {
        SCOPED_TRACE(name);
        const Passage r = through({bounce_check()}, fixture(name));
        EXPECT_EQ(r.tx.message.kind, MessageKind::Ordinary);
        EXPECT_FALSE(r.verdict.body.has_value());
    }
}

TEST(BounceCheck, NonStandardBounceIsWrappedWithANewContentType) {
    const std::string qmail = fixture("qmail.eml");
    const Passage r = through({bounce_check()}, qmail);
    ASSERT_EQ(r.tx.message.kind, MessageKind::DeliveryReport);
    ASSERT_FALSE(r.tx.message.outgoing_failures.empty());
    ASSERT_TRUE(r.verdict.body.has_value());
    const auto type = added(r.verdict, "Content-Type");
    ASSERT_TRUE(type.has_value());
    EXPECT_NE(type->find("multipart/mixed"), std::string::npos);
    EXPECT_NE(type->find("boundary="), std::string::npos);
    bool removed_old_type = false;
    for (const auto& h : r.verdict.headers) {
        removed_old_type |= h.kind == HeaderEdit::Kind::Remove && h.name == "Content-Type";
    }
    const bool had_type = !split(qmail).headers.empty() && [&] {
        for (const auto& h : split(qmail).headers) {
            if (h.name == "Content-Type") {
                return true;
            }
        }
        return false;
    }();
    EXPECT_EQ(removed_old_type, had_type);
    // The original text is kept after the explanation.
    const std::string original_text = split(qmail).body.substr(0, 40);
    EXPECT_LT(r.verdict.body->find("Why your message was not delivered"),
              r.verdict.body->find(util::trim(original_text.substr(0, original_text.find('\n')))));
}

TEST(BounceCheck, ExistingExplanationHeaderIsNotExplainedTwice) {
    std::string message = fixture("postfix_user_unknown.eml");
    message.insert(0, "X-Mailwarden-Explanation: userunknown\r\n");
    const Passage r = through({bounce_check()}, message);
    EXPECT_EQ(r.tx.message.outgoing_failures.size(), 1u);
    EXPECT_FALSE(r.verdict.body.has_value());
}

TEST(BounceCheck, GarbageWithABounceSubjectIsNeverRefusedAndKeepsItsText) {
    const std::string message =
        "From: MAILER-DAEMON@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"x\"\r\n\r\n"
        "\x01\x02 no parts at all \xff\xfe\r\n";
    const Passage r =
        through({std::make_shared<RefuseAll>(Action::Reject), bounce_check()}, message);
    EXPECT_FALSE(r.verdict.refuses());
    // Explained as "undefined" (or left as it was): the original text is never lost.
    if (r.verdict.body) {
        EXPECT_NE(r.verdict.body->find("no parts at all"), std::string::npos) << *r.verdict.body;
        for (const auto& f : r.tx.message.outgoing_failures) {
            EXPECT_EQ(f.category, "undefined");
        }
    }
}

}  // namespace
}  // namespace mailwarden::policy
