// authheaders_test.cpp - the DMARC cases of the Python "authheaders" package
// (authheaders/cases.yaml), run through message::author_domains, the RFC 9989 tree walk and
// the Authentication-Results formatter.
//
// The case's DNS answers are loaded into a StaticResolver. SPF is never evaluated (as
// upstream). DKIM verdicts are handed in: from `prev_ar` when the case gives one, else
// (`verify_dkim` cases) the per-signature verdicts the case's expected header states - the
// cryptographic verification itself is the DKIM verifier's job. Asserted: the dmarc result,
// header.from and policy.dmarc (not authheaders' comment wording), both on the Outcome and
// in the header we write. Where RFC 9989 changes the RFC 7489-era expectation, the RFC 9989
// answer is asserted and printed (see kRfc9989).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <string>
#include <vector>

#include "auth/dmarc/evaluator.hpp"
#include "auth/results.hpp"
#include "corpus_support.hpp"
#include "dns/static_resolver.hpp"
#include "message/author.hpp"

namespace mailwarden::auth::dmarc {
namespace {

using conformance::dmarc_corpus;

struct Rfc9989Answer {
    const char* case_name;
    const char* dmarc;
    const char* policy;
    const char* why;
};

// RFC 9989 answers that differ from the source expectation.
constexpr Rfc9989Answer kRfc9989[] = {
    {"authenticate_dmarc_bad", "fail", "none",
     "RFC 9989 §4.8: a syntax error after v=DMARC1 (the bare term \"reject\") is ignored, "
     "so \"v=DMARC1; p=none; reject\" is a valid p=none record and, with no aligned pass, "
     "the message fails with policy none (authheaders: permerror)"},
};

struct AhCase {
    std::string name;
    std::string message;
    bool verify_dkim = false;
    bool dmarc = true;
    std::string prev_ar;
    std::string expected_ar;
    std::string want_dmarc;
    std::string want_policy;  ///< "" when the case states none
    std::string note;         ///< why RFC 9989 differs ("" when it does not)
    std::string extension;
};

void PrintTo(const AhCase& c, std::ostream* os) {
    *os << c.name;
}

std::string scalar(const YAML::Node& node, const char* key) {
    return node[key] && node[key].IsScalar() ? node[key].as<std::string>() : std::string();
}

std::vector<AhCase> load_cases() {
    std::vector<AhCase> cases;
    const auto dir = dmarc_corpus("authheaders", "cases.yaml");
    if (!dir) {
        return cases;
    }
    const YAML::Node root = YAML::LoadFile((*dir / "cases.yaml").string());
    for (const auto& node : root["cases"]) {
        AhCase c;
        c.name = scalar(node, "name");
        c.message = scalar(node, "message");
        c.verify_dkim = node["verify_dkim"] && node["verify_dkim"].as<bool>();
        c.dmarc = !node["dmarc"] || node["dmarc"].as<bool>();
        c.prev_ar = scalar(node, "prev_ar");
        c.expected_ar = scalar(node, "expected_ar");
        c.want_dmarc = scalar(node, "expected_dmarc");
        c.want_policy = scalar(node, "expected_policy");
        c.extension = scalar(node, "extension");
        for (const auto& answer : kRfc9989) {
            if (c.name == answer.case_name) {
                c.want_dmarc = answer.dmarc;
                c.want_policy = answer.policy;
                c.note = answer.why;
            }
        }
        cases.push_back(std::move(c));
    }
    return cases;
}

const std::vector<AhCase>& all_cases() {
    static const std::vector<AhCase> cases = load_cases();
    return cases;
}

/// The upstream DNS stub as a zone: a string is a TXT record ("@file P": P's content), ""
/// a name that exists without records (for _dmarc names simply no record), null NXDOMAIN.
dns::StaticResolver& zone() {
    static dns::StaticResolver z;
    static const bool loaded = [] {
        const auto dir = *dmarc_corpus("authheaders", "cases.yaml");
        const YAML::Node root = YAML::LoadFile((dir / "cases.yaml").string());
        for (const auto& entry : root["dns"]) {
            const auto name = entry.first.as<std::string>();
            const YAML::Node& value = entry.second;
            if (value.IsNull()) {
                continue;
            }
            std::string text = value.as<std::string>();
            if (text.starts_with("@file ")) {
                text = conformance::read_text(dir / text.substr(6));
                while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
                    text.pop_back();
                }
            }
            if (!text.empty()) {
                z.add_txt(name, text);
            } else if (!name.starts_with("_dmarc.")) {
                EXPECT_TRUE(z.load_text("\"" + name + "\": []").has_value());
            }
        }
        return true;
    }();
    EXPECT_TRUE(loaded);
    return z;
}

/// The "dkim=<result> ... header.d=<d>" results of an Authentication-Results field.
std::vector<dkim::SignatureResult> dkim_results(const std::string& field) {
    std::vector<dkim::SignatureResult> out;
    for (std::string_view part : util::split(field, ';')) {
        part = util::trim(part);
        if (!part.starts_with("dkim=")) {
            continue;
        }
        dkim::SignatureResult sig;
        const auto word =
            part.substr(5, part.find(' ') == std::string_view::npos ? std::string_view::npos
                                                                    : part.find(' ') - 5);
        sig.result = dkim::parse_result(word).value_or(dkim::Result::PermError);
        if (const auto d = part.find("header.d="); d != std::string_view::npos) {
            const auto rest = part.substr(d + 9);
            sig.domain = std::string(rest.substr(0, rest.find(' ')));
        }
        out.push_back(std::move(sig));
    }
    return out;
}

class AuthheadersCases : public ::testing::TestWithParam<AhCase> {};

TEST_P(AuthheadersCases, GiveTheRfc9989DmarcResult) {
    const AhCase& c = GetParam();
    const auto dir = *dmarc_corpus("authheaders", "cases.yaml");
    if (!c.note.empty()) {
        std::cout << "[ note ] " << c.name << ": " << c.note << "\n";
    }
    if (!c.extension.empty()) {
        std::cout << "[ note ] " << c.name << ": extension case (" << c.extension
                  << "), RFC 9989 behaviour asserted\n";
    }
    const auto verdicts = dkim_results(c.prev_ar.empty() ? c.expected_ar : c.prev_ar);
    std::vector<DkimInput> dkim;
    for (const auto& v : verdicts) {
        dkim.push_back(DkimInput{v.result, v.domain, v.selector});
    }
    AuthSummary summary;
    summary.dkim = verdicts;
    summary.dkim_evaluated = c.verify_dkim || !c.prev_ar.empty();

    if (!c.dmarc) {
        // A DKIM-only case: the header we write carries the same DKIM verdicts.
        const std::string ar = format_authentication_results("example.com", summary);
        ASSERT_FALSE(verdicts.empty());
        for (const auto& v : verdicts) {
            EXPECT_NE(ar.find("dkim=" + std::string(dkim::to_string(v.result))), std::string::npos)
                << ar;
            EXPECT_NE(ar.find("header.d=" + v.domain), std::string::npos) << ar;
        }
        conformance::record("authheaders");
        return;
    }

    const auto values = conformance::header_values(dir / c.message, "From");
    std::vector<std::string_view> views(values.begin(), values.end());
    const auto authors = message::author_domains(views);
    dns::StaticResolver& z = zone();
    std::string error;
    const auto evaluator = Evaluator::create(z, Options{}, &error);
    ASSERT_TRUE(evaluator.has_value()) << error;
    const Outcome outcome = authors ? evaluator->evaluate_authors(*authors, SpfInput{}, dkim)
                                    : unusable_author(authors.error().message);

    EXPECT_EQ(to_string(outcome.result), c.want_dmarc) << outcome.reason;
    // header.from: the author domain in expected_ar ("none" there = no usable domain).
    // authheaders writes none for dmarc=none; RFC 8601 §2.7.4 / RFC 9989 §9.1 name it
    // whenever there is one, so then it is the domain of the From: address.
    std::string want_from;
    if (const auto at = c.expected_ar.find("header.from="); at != std::string::npos) {
        want_from = c.expected_ar.substr(at + 12);
        want_from = want_from.substr(0, want_from.find(' '));
    } else if (values.size() == 1 && values[0].rfind('@') != std::string::npos) {
        want_from = values[0].substr(values[0].rfind('@') + 1);
        want_from = want_from.substr(0, want_from.find_first_of("> "));
    }
    want_from = util::to_lower(want_from);
    if (want_from == "none") {
        want_from.clear();
    }
    EXPECT_EQ(outcome.header_from, want_from);
    const bool applied = outcome.result == Result::Pass || outcome.result == Result::Fail;
    if (!c.want_policy.empty() && applied) {
        EXPECT_EQ(
            to_string(outcome.record && outcome.record->testing
                          ? (outcome.policy == Policy::Reject ? Policy::Quarantine : Policy::None)
                          : outcome.policy),
            c.want_policy)
            << outcome.reason;
    }

    summary.dmarc = outcome;
    const std::string ar = format_authentication_results("example.com", summary);
    EXPECT_NE(ar.find("dmarc=" + c.want_dmarc), std::string::npos) << ar;
    if (!want_from.empty()) {
        EXPECT_NE(ar.find("header.from=" + want_from), std::string::npos) << ar;
    }
    if (!c.want_policy.empty() && applied) {
        EXPECT_NE(ar.find("policy.dmarc=" + c.want_policy), std::string::npos) << ar;
    } else {
        EXPECT_EQ(ar.find("policy.dmarc="), std::string::npos) << ar;
    }
    conformance::record("authheaders", !c.note.empty());
}

std::string case_name(const ::testing::TestParamInfo<AhCase>& info) {
    return conformance::test_name(info.param.name);
}

INSTANTIATE_TEST_SUITE_P(Authheaders, AuthheadersCases, ::testing::ValuesIn(all_cases()),
                         case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(AuthheadersCases);

TEST(AuthheadersFromDomain, ExtractsTheAuthorDomain) {
    const auto dir = dmarc_corpus("authheaders", "cases.yaml");
    if (!dir) {
        conformance::record_skip("authheaders-from");
        GTEST_SKIP() << "authheaders cases not found: set MAILWARDEN_CORPORA or check out "
                        "../shared/corpora/dmarc/authheaders/";
    }
    const YAML::Node root = YAML::LoadFile((*dir / "cases.yaml").string());
    int vectors = 0;
    for (const auto& pair : root["from_domain"]) {
        const auto value = pair[0].as<std::string>();
        const std::vector<std::string_view> values{value};
        const auto got = message::author_domain(values);
        ASSERT_TRUE(got.has_value()) << value << ": " << got.error().message;
        EXPECT_EQ(*got, pair[1].as<std::string>()) << value;
        ++vectors;
    }
    EXPECT_EQ(vectors, 4);
    conformance::record("authheaders-from");
}

TEST(AuthheadersCasesFile, IsPresent) {
    if (all_cases().empty()) {
        conformance::record_skip("authheaders");
        GTEST_SKIP() << "authheaders cases not found: set MAILWARDEN_CORPORA or check out "
                        "../shared/corpora/dmarc/authheaders/";
    }
    EXPECT_EQ(all_cases().size(), 12u);
}

}  // namespace
}  // namespace mailwarden::auth::dmarc
