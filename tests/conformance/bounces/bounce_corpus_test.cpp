// bounce_corpus_test.cpp - parse_dsn + explain on every bounce of the sisimai corpus.
//
// For each row of ../shared/corpora/bounces/expected.tsv (one row per bounced recipient, in
// the report's order; index 0 = "must yield nothing") compares our category with sisimai's
// reason and our enhanced status with sisimai's status, prints the agreement and a
// confusion table, and fails below the floors recorded here (no regression). Set
// MW_CORPUS_VERBOSE=1 to list every disagreement with its diagnostic.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "dsn/explain.hpp"
#include "dsn/report.hpp"
#include "explain/catalog.hpp"
#include "support/paths.hpp"
#include "util/ascii.hpp"

namespace mailwarden::dsn {
namespace {

// Agreement floors in percent of the corpus's recipient rows (319 in the dev half), set at
// the figures of the committed catalog on 2026-12-04: reason 300/319 (94.0 %), status
// 305/319 (95.6 %), both 292/319 (91.5 %); by file 273/300 (91.0 %) agree on every row.
// One lost row (0.31 %) fails the test: no regression. The issue's goal is 95 % on both;
// raise these when the agreement improves.
constexpr double kReasonFloorPercent = 93.9;
constexpr double kStatusFloorPercent = 95.5;
constexpr double kBothFloorPercent = 91.4;

struct Row {
    std::string file;
    int index = 0;
    std::string reason;
    std::string status;
};

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream in(line);
    std::string field;
    while (std::getline(in, field, '\t')) {
        out.push_back(field);
    }
    if (!line.empty() && line.back() == '\t') {
        out.emplace_back();
    }
    return out;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

TEST(BounceCorpus, AgreesWithSisimai) {
    const auto corpora = testing::corpora_dir();
    if (!corpora || !std::filesystem::exists(*corpora / "bounces" / "expected.tsv")) {
        GTEST_SKIP() << "bounce corpus not found (set MAILWARDEN_CORPORA or check out "
                        "../shared/corpora)";
    }
    const std::filesystem::path dir = *corpora / "bounces";
    auto catalog =
        explain::Catalog::load_file(testing::source_dir() / "conf" / "explanations.yaml");
    ASSERT_TRUE(catalog.has_value()) << catalog.error().describe();

    std::map<std::string, std::vector<Row>> rows_by_file;
    std::ifstream in(dir / "expected.tsv");
    std::string line;
    std::getline(in, line);  // header
    int row_count = 0;
    while (std::getline(in, line)) {
        const auto fields = split_tabs(line);
        if (fields.size() < 4) {
            continue;
        }
        Row row{fields[0], std::atoi(fields[1].c_str()), fields[2], fields[3]};
        rows_by_file[row.file].push_back(row);
        ++row_count;
    }
    ASSERT_GT(row_count, 0);

    const bool verbose = std::getenv("MW_CORPUS_VERBOSE") != nullptr;
    int reason_ok = 0;
    int status_ok = 0;
    int both_ok = 0;
    int parse_failures = 0;
    std::map<std::string, std::map<std::string, int>> confusion;  // expected -> ours -> n
    std::ostringstream misses;

    int files_ok = 0;
    for (const auto& [file, rows] : rows_by_file) {
        bool file_ok = true;
        const std::string bytes = read_file(dir / "emails" / file);
        const auto report = parse_dsn(bytes);
        std::vector<RecipientExplanation> explanations;
        if (report) {
            explanations = explain(*report, *catalog);
        }
        for (const Row& row : rows) {
            if (row.index == 0) {
                // Must yield nothing: ordinary mail.
                const bool nothing = !report || explanations.empty();
                reason_ok += nothing;
                status_ok += nothing;
                both_ok += nothing;
                file_ok = file_ok && nothing;
                confusion["-"][nothing ? "-" : "(result)"]++;
                continue;
            }
            const std::size_t i = static_cast<std::size_t>(row.index - 1);
            std::string reason = "(none)";
            std::string status;
            std::string diagnostic;
            if (i < explanations.size()) {
                reason = std::string(explain::to_string(explanations[i].reason));
                status = explanations[i].status;
                diagnostic = explanations[i].diagnostic;
            } else if (!report) {
                ++parse_failures;
                diagnostic = report.error().describe();
            }
            const bool r_ok = reason == row.reason;
            const bool s_ok = status == row.status;
            reason_ok += r_ok;
            status_ok += s_ok;
            both_ok += r_ok && s_ok;
            file_ok = file_ok && r_ok && s_ok;
            confusion[row.reason][reason]++;
            if (verbose && (!r_ok || !s_ok)) {
                misses << file << "#" << row.index << "  want " << row.reason << " " << row.status
                       << "  got " << reason << " " << status << "  ["
                       << (i < explanations.size() ? explanations[i].entry_id : "") << "] "
                       << diagnostic.substr(0, 200) << "\n";
            }
        }
        files_ok += file_ok;
    }

    const auto percent = [row_count](int n) { return 100.0 * n / row_count; };
    std::ostringstream table;
    table << "\nconfusion (sisimai reason -> ours: count), rows " << row_count << "\n";
    for (const auto& [expected, ours] : confusion) {
        int total = 0;
        for (const auto& [name, n] : ours) {
            total += n;
        }
        table << "  " << expected << " (" << total << "):";
        for (const auto& [name, n] : ours) {
            table << " " << (name == expected ? "=" : "") << name << " " << n;
        }
        table << "\n";
    }
    std::printf("%s", table.str().c_str());
    if (verbose) {
        std::printf("\nmisses:\n%s", misses.str().c_str());
    }
    std::printf(
        "\nagreement over %d recipient rows: reason %d (%.1f %%), status %d (%.1f %%), "
        "both %d (%.1f %%); parse failures %d\n",
        row_count, reason_ok, percent(reason_ok), status_ok, percent(status_ok), both_ok,
        percent(both_ok), parse_failures);
    std::printf("agreement over %zu files (every row of the file on both): %d (%.1f %%)\n",
                rows_by_file.size(), files_ok, 100.0 * files_ok / rows_by_file.size());
    EXPECT_GE(percent(reason_ok), kReasonFloorPercent);
    EXPECT_GE(percent(status_ok), kStatusFloorPercent);
    EXPECT_GE(percent(both_ok), kBothFloorPercent);
}

}  // namespace
}  // namespace mailwarden::dsn
