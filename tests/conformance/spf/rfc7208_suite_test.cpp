// rfc7208_suite_test.cpp - the OpenSPF RFC 7208 conformance suite, one test per case.
//
// Reads ../shared/corpora/spf/rfc7208-tests.yml (or $MAILWARDEN_CORPORA), loads each
// scenario's zonedata into a StaticResolver and runs check_host for every test the way the
// reference driver (pyspf testspf.py) does: MAIL FROM identity, default explanation
// "DEFAULT", any listed result accepted, the explanation compared when given. The older
// rfc4408 suite is not run: its README marks it as not applicable to RFC 7208.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/spf/evaluator.hpp"
#include "dns/static_resolver.hpp"
#include "support/paths.hpp"
#include "util/clock.hpp"

namespace mailwarden::auth::spf {
namespace {

struct SuiteCase {
    std::string scenario;
    std::string id;
    std::string host;
    std::string mailfrom;
    std::string helo;
    std::vector<std::string> results;
    std::optional<std::string> explanation;
    std::shared_ptr<dns::StaticResolver> zone;
    std::string load_error;  // a zone that failed to load fails its tests
};

// Keeps gtest from dumping the bytes of a case in failure messages.
void PrintTo(const SuiteCase& c, std::ostream* os) {
    *os << c.id;
}

std::optional<std::filesystem::path> suite_path() {
    const auto corpora = mailwarden::testing::corpora_dir();
    if (!corpora) {
        return std::nullopt;
    }
    auto path = *corpora / "spf" / "rfc7208-tests.yml";
    if (!std::filesystem::exists(path)) {
        return std::nullopt;
    }
    return path;
}

std::string scalar(const YAML::Node& node) {
    return node && !node.IsNull() ? node.as<std::string>() : std::string();
}

std::vector<SuiteCase> load_cases() {
    std::vector<SuiteCase> cases;
    const auto path = suite_path();
    if (!path) {
        return cases;
    }
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAllFromFile(path->string());
    } catch (const YAML::Exception& e) {
        std::cerr << "cannot parse " << path->string() << ": " << e.what() << "\n";
        return cases;
    }
    for (const auto& scenario : documents) {
        if (!scenario.IsMap() || !scenario["tests"]) {
            continue;
        }
        auto zone = std::make_shared<dns::StaticResolver>();
        const auto loaded = zone->load(scenario["zonedata"]);
        for (const auto& test : scenario["tests"]) {
            const YAML::Node& t = test.second;
            SuiteCase c;
            c.scenario = scalar(scenario["description"]);
            c.id = test.first.as<std::string>();
            c.host = scalar(t["host"]);
            c.mailfrom = scalar(t["mailfrom"]);
            c.helo = scalar(t["helo"]);
            if (t["result"].IsSequence()) {
                c.results = t["result"].as<std::vector<std::string>>();
            } else {
                c.results.push_back(scalar(t["result"]));
            }
            if (t["explanation"]) {
                c.explanation = scalar(t["explanation"]);
            }
            c.zone = zone;
            if (!loaded) {
                c.load_error = loaded.error().describe();
            }
            cases.push_back(std::move(c));
        }
    }
    return cases;
}

const std::vector<SuiteCase>& all_cases() {
    static const std::vector<SuiteCase> cases = load_cases();
    return cases;
}

std::atomic<int> g_passed{0};
std::atomic<int> g_failed{0};

class Counts : public ::testing::Environment {
  public:
    void TearDown() override {
        if (g_passed + g_failed > 0) {
            std::cout << "[rfc7208 suite] " << g_passed << " passed, " << g_failed
                      << " failed, 0 skipped of " << all_cases().size() << " cases\n";
        }
    }
};
const auto* const kCounts = ::testing::AddGlobalTestEnvironment(new Counts);

class Rfc7208Suite : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(Rfc7208Suite, GivesAnAcceptableResult) {
    const SuiteCase& c = GetParam();
    ASSERT_TRUE(c.load_error.empty())
        << "zone of scenario '" << c.scenario << "' failed to load: " << c.load_error;
    auto ip = util::IpAddress::parse(c.host);
    ASSERT_TRUE(ip.has_value()) << c.host;
    util::SystemClock clock;
    Options options;
    options.default_explanation = "DEFAULT";  // as the reference driver configures it
    Evaluator evaluator(*c.zone, clock, options);
    const Outcome outcome = evaluator.check_mail_from(*ip, c.mailfrom, c.helo);
    const std::string got(to_string(outcome.result));
    const bool result_ok = std::find(c.results.begin(), c.results.end(), got) != c.results.end();
    const bool explanation_ok =
        !c.explanation || outcome.result != Result::Fail || outcome.explanation == *c.explanation;
    (result_ok && explanation_ok ? g_passed : g_failed)++;
    EXPECT_TRUE(result_ok) << "scenario '" << c.scenario << "', test " << c.id << ": got " << got
                           << ", want one of [" << ::testing::PrintToString(c.results) << "]\n"
                           << outcome.full_trace();
    if (c.explanation && outcome.result == Result::Fail) {
        EXPECT_EQ(outcome.explanation, *c.explanation) << "scenario '" << c.scenario << "'";
    }
}

std::string case_name(const ::testing::TestParamInfo<SuiteCase>& info) {
    std::string name = info.param.id;
    for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) {
            ch = '_';
        }
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(Rfc7208, Rfc7208Suite, ::testing::ValuesIn(all_cases()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Rfc7208Suite);

TEST(Rfc7208SuiteFile, IsPresentAndComplete) {
    if (!suite_path()) {
        GTEST_SKIP() << "SPF corpus not found: set MAILWARDEN_CORPORA or check out "
                        "../shared/corpora/spf/rfc7208-tests.yml";
    }
    // README: 16 scenarios, 203 tests. Fewer means the loader lost some.
    EXPECT_EQ(all_cases().size(), 203u);
}

}  // namespace
}  // namespace mailwarden::auth::spf
