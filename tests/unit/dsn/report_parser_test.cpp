// report_parser_test.cpp - parse_dsn + explain on small fixtures (tests/data/dsn/*.eml).
//
// One named case per bounce shape: RFC 3464 with folded fields, CRLF without blank lines
// between recipients, qmail and Exim prose, broken MIME, wrong charset, nonsense codes, ARF,
// auto-reply, ordinary mail; plus generated stress inputs (1,000 recipients, 10 MB original,
// garbage bytes) that must be handled without a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dsn/delivery_status.hpp"
#include "dsn/explain.hpp"
#include "dsn/report.hpp"
#include "explain/catalog.hpp"
#include "support/matchers.hpp"
#include "support/paths.hpp"

namespace mailwarden::dsn {
namespace {

using ::mailwarden::testing::HasError;
using ::mailwarden::testing::IsOk;

std::string fixture(const std::string& name) {
    std::ifstream in(testing::source_dir() / "tests" / "data" / "dsn" / name, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

const explain::Catalog& catalog() {
    static const explain::Catalog loaded = [] {
        auto result =
            explain::Catalog::load_file(testing::source_dir() / "conf" / "explanations.yaml");
        if (!result) {
            ADD_FAILURE() << result.error().describe();
            return explain::Catalog();
        }
        return std::move(*result);
    }();
    return loaded;
}

struct Want {
    std::string recipient;
    std::string action;
    std::string reason;
    std::string status;
    int reply_code;  // 0 = none
    std::string remote_host;
    bool permanent;
};

struct Case {
    const char* file;
    ReportFormat format;
    std::vector<Want> want;
};

const Case kCases[] = {
    {"postfix_user_unknown.eml",
     ReportFormat::DeliveryStatus,
     {{"bob@example.org", "failed", "userunknown", "5.1.1", 550, "mx.example.org", true}}},
    {"two_recipients_crlf.eml",
     ReportFormat::DeliveryStatus,
     {{"carol@example.org", "delayed", "expired", "4.4.1", 421, "mx.example.org", false},
      {"dave@example.org", "failed", "mailboxfull", "5.2.2", 552, "", true}}},
    {"qmail.eml",
     ReportFormat::Heuristic,
     {{"bob@example.org", "failed", "userunknown", "5.1.1", 550, "", true},
      {"erin@example.net", "failed", "hostunknown", "5.1.2", 0, "", true}}},
    {"exim_failed_recipients.eml",
     ReportFormat::Heuristic,
     {{"frank@gmail.com", "failed", "authfailure", "5.7.26", 550, "gmail-smtp-in.l.google.com",
       true}}},
    {"broken_boundary.eml",
     ReportFormat::DeliveryStatus,
     {{"grace@example.org", "failed", "blocked", "5.7.1", 554, "", true}}},
    {"wrong_charset.eml",
     ReportFormat::Heuristic,
     {{"heidi@example.org", "failed", "suspend", "5.2.1", 550, "", true}}},
    {"bad_codes.eml",
     ReportFormat::DeliveryStatus,
     {{"ivan@example.org", "failed", "undefined", "5.0.900", 0, "", true},
      {"judy@example.org", "failed", "undefined", "5.0.900", 0, "", true}}},
    {"ses_bounce.eml",
     ReportFormat::DeliveryStatus,
     {{"kate@example.org", "failed", "mailboxfull", "5.2.2", 552, "", true}}},
    {"arf_abuse.eml",
     ReportFormat::Feedback,
     {{"user@isp.example", "", "feedback", "", 0, "", false}}},
    {"vacation.eml",
     ReportFormat::AutoReply,
     {{"karl@example.org", "", "vacation", "", 0, "", false}}},
};

TEST(ReportParser, ParsesAndExplainsFixtures) {
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.file);
        const std::string bytes = fixture(c.file);
        ASSERT_FALSE(bytes.empty());
        const auto report = parse_dsn(bytes);
        ASSERT_THAT(report, IsOk());
        EXPECT_EQ(to_string(report->format), to_string(c.format));
        const auto explanations = explain(*report, catalog());
        ASSERT_EQ(explanations.size(), c.want.size());
        for (std::size_t i = 0; i < c.want.size(); ++i) {
            const Want& want = c.want[i];
            const RecipientExplanation& got = explanations[i];
            SCOPED_TRACE(want.recipient);
            EXPECT_EQ(got.recipient, want.recipient);
            EXPECT_EQ(got.action, want.action);
            EXPECT_EQ(explain::to_string(got.reason), want.reason) << got.entry_id;
            EXPECT_EQ(got.status, want.status);
            EXPECT_EQ(got.reply_code.value_or(0), want.reply_code);
            EXPECT_EQ(got.remote_host, want.remote_host);
            EXPECT_EQ(got.permanent, want.permanent);
            EXPECT_FALSE(got.summary.empty());
            EXPECT_FALSE(got.user_text.empty());
            EXPECT_FALSE(got.admin_text.empty());
        }
    }
}

TEST(ReportParser, ReadsEveryRfc3464FieldAndTheOriginalHeaders) {
    const auto report = parse_dsn(fixture("postfix_user_unknown.eml"));
    ASSERT_THAT(report, IsOk());
    EXPECT_EQ(report->reporting_mta, "mx.example.com");
    EXPECT_EQ(report->arrival_date, "Mon, 23 Nov 2026 10:00:00 +0000 (UTC)");
    EXPECT_EQ(report->subject, "Undelivered Mail Returned to Sender");
    ASSERT_EQ(report->recipients.size(), 1u);
    const RecipientStatus& r = report->recipients[0];
    EXPECT_EQ(r.final_recipient, "bob@example.org");
    EXPECT_EQ(r.original_recipient, "Bob@Example.org");
    EXPECT_EQ(r.action, "failed");
    EXPECT_EQ(r.status, "5.1.1");
    EXPECT_EQ(r.remote_mta, "mx.example.org");
    EXPECT_EQ(r.diagnostic_code,
              "smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in "
              "virtual mailbox table (in reply to RCPT TO command)");  // stage from the text
    EXPECT_EQ(r.last_attempt_date, "Mon, 23 Nov 2026 10:00:05 +0000 (UTC)");
    EXPECT_EQ(report->original.message_id, "<report-42@example.com>");
    EXPECT_EQ(report->original.subject, "Quarterly report");
    EXPECT_EQ(report->original.from, "Alice <alice@example.com>");
    EXPECT_EQ(report->original.to, "Bob <bob@example.org>");

    const auto crlf = parse_dsn(fixture("two_recipients_crlf.eml"));
    ASSERT_THAT(crlf, IsOk());
    ASSERT_EQ(crlf->recipients.size(), 2u);
    EXPECT_EQ(crlf->recipients[0].will_retry_until, "Wed, 25 Nov 2026 10:00:00 +0000");
    EXPECT_EQ(crlf->recipients[1].action, "failed");  // "failed (permanent)"
    EXPECT_EQ(crlf->original.message_id, "<lunch-1@example.com>");
    EXPECT_EQ(crlf->original.subject, "Lunch");
}

TEST(ReportParser, ExplanationsNameTheRecipientAndSender) {
    const auto report = parse_dsn(fixture("postfix_user_unknown.eml"));
    ASSERT_THAT(report, IsOk());
    const auto explanations = explain(*report, catalog());
    ASSERT_EQ(explanations.size(), 1u);
    EXPECT_THAT(explanations[0].summary, ::testing::HasSubstr("bob@example.org"));
    EXPECT_THAT(explanations[0].admin_text, ::testing::HasSubstr("mx.example.org"));
    EXPECT_TRUE(explanations[0].is_failure());
}

TEST(ReportParser, OrdinaryMailIsNotABounce) {
    EXPECT_THAT(parse_dsn(fixture("not_a_bounce.eml")), HasError(util::ErrorCode::NotFound));
}

TEST(ReportParser, EmptyAndOversizedInputAreRefused) {
    EXPECT_THAT(parse_dsn(""), HasError(util::ErrorCode::InvalidInput));
    ParseLimits limits;
    limits.max_message_bytes = 100;
    EXPECT_THAT(parse_dsn(fixture("postfix_user_unknown.eml"), limits),
                HasError(util::ErrorCode::InvalidInput));
}

TEST(ReportParser, GarbageNeverCrashes) {
    std::string garbage;
    for (int i = 0; i < 64 * 1024; ++i) {
        garbage.push_back(static_cast<char>((i * 7919) % 256));
    }
    const auto report = parse_dsn(garbage);
    if (report) {
        (void)explain(*report, catalog());
    }
    // Headers only, MIME declared but no body at all.
    const auto empty_body =
        parse_dsn("From: MAILER-DAEMON@x\nContent-Type: multipart/report; boundary=\"b\"\n");
    if (empty_body) {
        EXPECT_LE(empty_body->recipients.size(), 1u);
    }
}

std::string big_dsn(int recipients, std::size_t original_bytes) {
    std::string dsn =
        "From: MAILER-DAEMON@mx.example.com\nSubject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
        "boundary=\"B\"\n\n--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.com\n";
    for (int i = 0; i < recipients; ++i) {
        dsn += "\nFinal-Recipient: rfc822; user" + std::to_string(i) +
               "@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 "
               "User unknown\n";
    }
    dsn += "\n--B\nContent-Type: message/rfc822\n\nFrom: a@example.com\nSubject: big\n\n";
    const std::string line(76, 'A');
    while (dsn.size() < original_bytes) {
        dsn += line + "\n";
    }
    dsn += "--B--\n";
    return dsn;
}

TEST(ReportParser, ThousandRecipientsAndTenMegabyteOriginal) {
    const std::string dsn = big_dsn(1000, 10u << 20);
    const auto start = std::chrono::steady_clock::now();
    const auto report = parse_dsn(dsn);
    ASSERT_THAT(report, IsOk());
    ASSERT_EQ(report->recipients.size(), 1000u);
    const auto explanations = explain(*report, catalog());
    EXPECT_EQ(explanations.size(), 1000u);
    EXPECT_EQ(explain::to_string(explanations[999].reason), "userunknown");
    EXPECT_EQ(report->original.subject, "big");
    // Generous bound: catches accidental quadratic behaviour, not a benchmark.
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));

    ParseLimits limits;
    limits.max_recipients = 10;
    const auto capped = parse_dsn(dsn, limits);
    ASSERT_THAT(capped, IsOk());
    EXPECT_EQ(capped->recipients.size(), 10u);
}

TEST(DeliveryStatus, FieldsSurviveMissingBlankLinesAndOddCase) {
    const auto fields = parse_delivery_status(
        "REPORTING-MTA: dns; a.example\nfinal-recipient: rfc822; <x@example.org>\n"
        "action: FAILED\nstatus: 5.1.1 (user unknown)\nFinal-Recipient: y@example.org\n"
        "Action: delayed\n",
        100);
    EXPECT_EQ(fields.reporting_mta, "a.example");
    ASSERT_EQ(fields.recipients.size(), 2u);
    EXPECT_EQ(fields.recipients[0].final_recipient, "x@example.org");
    EXPECT_EQ(fields.recipients[0].action, "failed");
    EXPECT_EQ(fields.recipients[0].status, "5.1.1");
    EXPECT_EQ(fields.recipients[1].final_recipient, "y@example.org");
    EXPECT_EQ(fields.recipients[1].action, "delayed");
    EXPECT_EQ(strip_address_type("rfc822;<z@example.org>"), "z@example.org");
}

TEST(ReportParser, ReadsEveryDeliveryStatusPart) {
    // Some MTAs write one message/delivery-status part per recipient.
    const std::string dsn =
        "From: MAILER-DAEMON@mx.example.org\nTo: alice@example.org\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
        "--B\nContent-Type: text/plain\n\nTwo recipients failed.\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: User unknown\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822; carol@example.net\nAction: failed\nStatus: 5.2.2\n"
        "Diagnostic-Code: smtp; 552 5.2.2 <carol@example.net>: Mailbox full\n\n"
        "--B--\n";
    const auto report = parse_dsn(dsn);
    ASSERT_THAT(report, IsOk());
    ASSERT_EQ(report->recipients.size(), 2u);
    EXPECT_EQ(report->recipients[0].final_recipient, "bob@example.net");
    EXPECT_EQ(report->recipients[1].final_recipient, "carol@example.net");
    EXPECT_EQ(report->recipients[1].status, "5.2.2");
}

}  // namespace
}  // namespace mailwarden::dsn
