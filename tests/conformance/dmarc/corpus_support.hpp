// corpus_support.hpp - shared helpers of the DMARC conformance suites: where the corpora
// are, header fields of a stored message, test names, and the count summary printed when
// the binary ends.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/paths.hpp"
#include "util/ascii.hpp"

namespace mailwarden::conformance {

/// ../shared/corpora/dmarc/<sub> when it holds `probe`; nullopt otherwise (a user's clone).
inline std::optional<std::filesystem::path> dmarc_corpus(std::string_view sub,
                                                         std::string_view probe) {
    const auto corpora = mailwarden::testing::corpora_dir();
    if (!corpora) {
        return std::nullopt;
    }
    const auto dir = *corpora / "dmarc" / sub;
    if (!std::filesystem::exists(dir / probe)) {
        return std::nullopt;
    }
    return dir;
}

inline std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The values of the header fields named `name` (case-insensitive) of a stored message,
/// unfolded (RFC 5322 §2.2.3), LF or CRLF line ends.
inline std::vector<std::string> header_values(const std::filesystem::path& message,
                                              std::string_view name) {
    std::vector<std::string> values;
    std::istringstream in(read_text(message));
    std::string line;
    bool in_field = false;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty()) {
            break;  // end of the header
        }
        if (line[0] == ' ' || line[0] == '\t') {
            if (in_field) {
                values.back() += line;
            }
            continue;
        }
        const auto colon = line.find(':');
        in_field = colon != std::string::npos && util::iequals(line.substr(0, colon), name);
        if (in_field) {
            values.push_back(line.substr(colon + 1));
        }
    }
    return values;
}

/// A test name from free text: letters and digits kept, everything else '_'.
inline std::string test_name(std::string_view text) {
    std::string out;
    for (char c : text) {
        out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
    }
    return out;
}

/// Per-suite counts, printed once when the test program ends.
struct Tally {
    int run = 0;
    int passed = 0;
    int failed = 0;
    int skipped = 0;
    int rfc9989_differs = 0;  ///< cases whose source expectation RFC 9989 changes
};

inline std::map<std::string, Tally>& tallies() {
    static std::map<std::string, Tally> t;
    return t;
}

/// Records the current test's outcome under `suite` (call at the end of a test body).
inline void record(const std::string& suite, bool rfc9989_differs = false) {
    Tally& t = tallies()[suite];
    ++t.run;
    if (::testing::Test::HasFailure()) {
        ++t.failed;
    } else {
        ++t.passed;
    }
    if (rfc9989_differs) {
        ++t.rfc9989_differs;
    }
}

inline void record_skip(const std::string& suite) {
    ++tallies()[suite].skipped;
}

class SummaryPrinter : public ::testing::Environment {
  public:
    void TearDown() override {
        for (const auto& [suite, t] : tallies()) {
            std::cout << "[summary] " << suite << ": " << t.run << " run, " << t.passed
                      << " passed, " << t.failed << " failed, " << t.skipped << " skipped, "
                      << t.rfc9989_differs << " asserting RFC 9989 where the source differs\n";
        }
    }
};

inline const bool kSummaryRegistered = [] {
    ::testing::AddGlobalTestEnvironment(new SummaryPrinter);
    return true;
}();

}  // namespace mailwarden::conformance
