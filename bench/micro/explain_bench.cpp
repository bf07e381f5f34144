// explain_bench.cpp - cost of explaining failures: one diagnostic line, one 10 KB DSN.
//
// Targets (issue 6): classifying a line against the full catalog well under 20 us; parsing
// and explaining a typical 10 KB DSN under 1 ms. The catalog is $MW_CATALOG, else
// MW_DEFAULT_CATALOG, else conf/explanations.yaml from the working directory.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "dsn/explain.hpp"
#include "dsn/report.hpp"
#include "explain/catalog.hpp"
#include "smtp/diagnostic.hpp"

namespace {

using mailwarden::explain::Catalog;

const Catalog& catalog() {
    static const Catalog loaded = [] {
        std::string path = "conf/explanations.yaml";
#ifdef MW_DEFAULT_CATALOG
        path = MW_DEFAULT_CATALOG;
#endif
        if (const char* env = std::getenv("MW_CATALOG"); env != nullptr && *env != '\0') {
            path = env;
        }
        auto result = Catalog::load_file(path);
        if (!result) {
            std::cerr << result.error().describe() << "\n";
            std::exit(1);
        }
        return std::move(*result);
    }();
    return loaded;
}

// Real-world shapes: provider texts, plain codes, wrappers, text without codes, garbage.
const std::vector<std::string>& lines() {
    static const std::vector<std::string> kLines{
        "550-5.7.26 This mail has been blocked because the sender is unauthenticated. "
        "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM. "
        "550 5.7.26 Authentication results: DKIM = did not pass SPF [example.com] with ip: "
        "[192.0.2.7] = did not pass",
        "smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in "
        "virtual mailbox table",
        "host mx.example.org[198.51.100.3] said: 554 5.7.1 Service unavailable; Client host "
        "[192.0.2.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7 "
        "(in reply to RCPT TO command)",
        "550 5.7.606 Access denied, banned sending IP [192.0.2.225]. To request removal from "
        "this list please visit https://sender.office.com/ and follow the directions.",
        "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected "
        "volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        "connect to mx.example.net[192.0.2.25]:25: Connection timed out",
        "999 9.9.9 something nobody has ever seen",
    };
    return kLines;
}

void BM_ParseDiagnostic(benchmark::State& state) {
    std::size_t i = 0;
    for (auto _ : state) {
        const auto d = mailwarden::smtp::parse_diagnostic(lines()[i++ % lines().size()]);
        benchmark::DoNotOptimize(d.text.data());
    }
}
BENCHMARK(BM_ParseDiagnostic);

void BM_ClassifyLine(benchmark::State& state) {
    const Catalog& c = catalog();
    mailwarden::explain::Context context;
    context.recipient = "bob@example.org";
    context.sender = "alice@example.com";
    std::size_t i = 0;
    for (auto _ : state) {
        const auto match = c.classify(lines()[i++ % lines().size()], context);
        benchmark::DoNotOptimize(match.user_text.data());
    }
}
BENCHMARK(BM_ClassifyLine);

// A Postfix-style DSN of about 10 KB: notification, delivery-status for 3 recipients, and
// the returned original with a body that brings it to size.
std::string make_dsn() {
    std::string dsn =
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"
        "To: alice@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n"
        "\tboundary=\"B1\"\r\n\r\n--B1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at host mx.example.com.\r\n\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n\r\n"
        "<bob@example.org>: host mx.example.org[198.51.100.3] said: 550 5.1.1\r\n"
        "    <bob@example.org>: Recipient address rejected: User unknown (in reply to RCPT TO\r\n"
        "    command)\r\n\r\n--B1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\nArrival-Date: Mon, 23 Nov 2026 16:00:00 +0000\r\n";
    const char* recipients[][3] = {
        {"bob@example.org", "5.1.1",
         "smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown"},
        {"carol@gmail.com", "5.7.26",
         "smtp; 550-5.7.26 This mail has been blocked because the sender is\r\n"
         "    unauthenticated. 550-5.7.26 Gmail requires all senders to authenticate with\r\n"
         "    either SPF or DKIM."},
        {"dave@example.net", "4.4.1",
         "X-Postfix; connect to mx.example.net[192.0.2.25]:25: Connection timed out"},
    };
    for (const auto& r : recipients) {
        dsn += std::string("\r\nFinal-Recipient: rfc822; ") + r[0] +
               "\r\nAction: " + (r[1][0] == '4' ? "delayed" : "failed") + "\r\nStatus: " + r[1] +
               "\r\nRemote-MTA: dns; mx.example.org\r\nDiagnostic-Code: " + r[2] + "\r\n";
    }
    dsn +=
        "\r\n--B1\r\nContent-Type: message/rfc822\r\n\r\n"
        "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n"
        "Subject: Quarterly report\r\nMessage-ID: <1@example.com>\r\n\r\n";
    while (dsn.size() < 10 * 1024 - 16) {
        dsn += "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
    }
    dsn += "\r\n--B1--\r\n";
    return dsn;
}

void BM_ParseAndExplainDsn10KB(benchmark::State& state) {
    const Catalog& c = catalog();
    const std::string dsn = make_dsn();
    for (auto _ : state) {
        const auto report = mailwarden::dsn::parse_dsn(dsn);
        if (!report) {
            state.SkipWithError("parse failed");
            break;
        }
        const auto explanations = mailwarden::dsn::explain(*report, c);
        benchmark::DoNotOptimize(explanations.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * dsn.size()));
}
BENCHMARK(BM_ParseAndExplainDsn10KB)->Unit(benchmark::kMicrosecond);

void BM_LoadCatalog(benchmark::State& state) {
    std::string path = "conf/explanations.yaml";
    if (const char* env = std::getenv("MW_CATALOG"); env != nullptr && *env != '\0') {
        path = env;
    }
    for (auto _ : state) {
        auto loaded = Catalog::load_file(path);
        benchmark::DoNotOptimize(loaded.has_value());
    }
}
BENCHMARK(BM_LoadCatalog)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
