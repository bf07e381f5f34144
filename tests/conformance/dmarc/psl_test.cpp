// psl_test.cpp - the Public Suffix List project's test vectors (psl/tests.txt) through the
// RFC 7489 §3.2 Organizational Domain method (OrgDomainMethod::PublicSuffixList), with the
// snapshot psl/public_suffix_list.dat. One named test per line; `null` = no registrable
// domain. Lines commented out upstream ("//") are not cases.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "auth/dmarc/evaluator.hpp"
#include "auth/dmarc/public_suffix_list.hpp"
#include "corpus_support.hpp"
#include "dns/static_resolver.hpp"

namespace mailwarden::auth::dmarc {
namespace {

using conformance::dmarc_corpus;

struct PslCase {
    std::string name;
    std::string input;
    std::string want;  ///< "null" or the registrable domain
};

void PrintTo(const PslCase& c, std::ostream* os) {
    *os << c.input << " -> " << c.want;
}

std::vector<PslCase> load_cases() {
    std::vector<PslCase> cases;
    const auto dir = dmarc_corpus("psl", "tests.txt");
    if (!dir) {
        return cases;
    }
    std::ifstream in(*dir / "tests.txt");
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty() || line.starts_with("//")) {
            continue;
        }
        const auto space = line.find(' ');
        if (space == std::string::npos) {
            continue;
        }
        PslCase c;
        c.input = line.substr(0, space);
        c.want = line.substr(space + 1);
        c.name = "line" + std::to_string(number) + "_" + conformance::test_name(c.input);
        cases.push_back(std::move(c));
    }
    return cases;
}

const std::vector<PslCase>& all_cases() {
    static const std::vector<PslCase> cases = load_cases();
    return cases;
}

const PublicSuffixList& snapshot() {
    static const PublicSuffixList psl = [] {
        std::string error;
        auto loaded = PublicSuffixList::load(
            *dmarc_corpus("psl", "tests.txt") / "public_suffix_list.dat", &error);
        EXPECT_TRUE(loaded.has_value()) << error;
        return std::move(*loaded);
    }();
    return psl;
}

class PslVectors : public ::testing::TestWithParam<PslCase> {};

TEST_P(PslVectors, RegistrableDomainIsTheOrganizationalDomain) {
    const PslCase& c = GetParam();
    const auto got = snapshot().registrable_domain(c.input);
    EXPECT_EQ(got.value_or("null"), c.want) << "input " << c.input;

    if (c.want != "null") {
        // The same answer through the evaluator's configured method (no DNS involved).
        dns::StaticResolver zone;
        Options options;
        options.method = OrgDomainMethod::PublicSuffixList;
        options.psl_file = *dmarc_corpus("psl", "tests.txt") / "public_suffix_list.dat";
        std::string error;
        const auto evaluator = Evaluator::create(zone, options, &error);
        ASSERT_TRUE(evaluator.has_value()) << error;
        EXPECT_EQ(evaluator->organizational_domain(c.input), c.want);
        EXPECT_EQ(zone.query_count(), 0u);
    }
    conformance::record("psl");
}

std::string case_name(const ::testing::TestParamInfo<PslCase>& info) {
    return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(PublicSuffixList, PslVectors, ::testing::ValuesIn(all_cases()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PslVectors);

TEST(PslVectorsFile, IsPresent) {
    if (all_cases().empty()) {
        conformance::record_skip("psl");
        GTEST_SKIP() << "PSL test vectors not found: set MAILWARDEN_CORPORA or check out "
                        "../shared/corpora/dmarc/psl/";
    }
    EXPECT_GE(all_cases().size(), 70u);
}

}  // namespace
}  // namespace mailwarden::auth::dmarc
