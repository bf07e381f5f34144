// rspamd_test.cpp - rspamd's DMARC functional checks (115_dmarc), end to end from the stored
// message: From: through message::author_domains, SPF through the project's SPF evaluator
// (check_mail_from with the step's client address and MAIL FROM) over the rspamd fake DNS
// loaded into a StaticResolver, DKIM verdicts from the `deb_dkimpy_per_signature` column
// (dkimpy's verdicts on the same zone), then DMARC.
//
// Every step runs twice: with the RFC 9989 tree walk, and with the RFC 7489 Public Suffix
// List method (the PSL snapshot of the corpus). The PSL run must give rspamd's (RFC 7489)
// answer on every step. The tree walk run asserts the RFC 9989 answer, which differs where
// a subdomain publishes its own record and its parent none (kTreeWalkAnswers).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "auth/dmarc/evaluator.hpp"
#include "auth/spf/evaluator.hpp"
#include "corpus_support.hpp"
#include "dns/static_resolver.hpp"
#include "message/author.hpp"
#include "util/clock.hpp"

namespace mailwarden::auth::dmarc {
namespace {

using conformance::dmarc_corpus;

struct TreeWalkAnswer {
    const char* test;
    const char* want;
    const char* why;
};

// RFC 9989 §4.10.2: "my.mom.za.org" publishes a record and "mom.za.org" none, so the tree
// walk makes my.mom.za.org its own Organizational Domain (rule 3, the record with the fewest
// labels) and mom.za.org (no record anywhere above it) its own; they no longer share one,
// and neither SPF nor DKIM for mom.za.org aligns (RFC 7489 with the PSL: both are under
// the public suffix za.org, org domain mom.za.org, aligned). The record says p=reject.
constexpr TreeWalkAnswer kTreeWalkAnswers[] = {
    {"DMARC SUBDOMAIN PASS DKIM RELAXED ALIGNMENT", "fail/reject",
     "RFC 9989 tree walk: my.mom.za.org is its own organizational domain, d=mom.za.org is not "
     "aligned (RFC 7489 PSL: pass)"},
    {"DMARC SUBDOMAIN PASS SPF RELAXED ALIGNMENT", "fail/reject",
     "RFC 9989 tree walk: my.mom.za.org is its own organizational domain, MAIL FROM "
     "mom.za.org is not aligned (RFC 7489 PSL: pass)"},
};
// pct=0 (the two PCT ZERO tests): rspamd applies RFC 7489 §6.6.4 sampling (reject ->
// quarantine, quarantine -> none); RFC 9989 Appendix A.6 reads pct=0 as t=y, which lowers
// the disposition the same one step, so both methods expect rspamd's answer.

struct Step {
    std::string name;
    std::string test;
    std::string message;
    std::string ip;
    std::string mail_from;
    std::string header_from;  ///< from expected.tsv, cross-checked with the message
    std::string want;         ///< "pass", "fail/<disposition>", "none", "temperror"
    std::string dkim;         ///< deb_dkimpy_per_signature
    OrgDomainMethod method = OrgDomainMethod::TreeWalk;
    std::string note;
};

void PrintTo(const Step& s, std::ostream* os) {
    *os << s.name;
}

/// Rows of expected.tsv that do not match cases.json (reported by RspamdDmarcFiles).
std::vector<std::string>& load_errors() {
    static std::vector<std::string> errors;
    return errors;
}

std::vector<Step> load_steps() {
    std::vector<Step> steps;
    const auto dir = dmarc_corpus("rspamd", "expected.tsv");
    if (!dir) {
        return steps;
    }
    std::ifstream tsv(*dir / "expected.tsv");
    std::string line;
    std::getline(tsv, line);  // header
    std::vector<std::vector<std::string>> rows;
    while (std::getline(tsv, line)) {
        std::vector<std::string> fields;
        for (auto f : util::split(line, '\t')) {
            fields.emplace_back(f);
        }
        if (fields.size() >= 9) {
            rows.push_back(std::move(fields));
        }
    }
    std::ifstream json_in(*dir / "cases.json");
    const auto cases = nlohmann::json::parse(json_in);
    std::size_t row = 0;
    for (const auto& test : cases) {
        int n = 0;
        for (const auto& step : test.at("steps")) {
            Step s;
            s.test = test.at("test").get<std::string>();
            s.message = step.value("message", "");
            s.ip = step.value("ip", "");
            s.mail_from = step.value("from", "");
            if (row < rows.size() && rows[row][0] == s.test && rows[row][1] == s.message &&
                rows[row][2] == s.ip && rows[row][3] == s.mail_from) {
                s.header_from = rows[row][4];
                s.want = rows[row][7];
                s.dkim = rows[row][8];
            } else {
                load_errors().push_back("expected.tsv row " + std::to_string(row + 1) +
                                        " does not match cases.json step of " + s.test);
            }
            ++row;
            const std::string base =
                conformance::test_name(s.test) + (++n > 1 ? "_" + std::to_string(n) : "");
            for (const auto method :
                 {OrgDomainMethod::TreeWalk, OrgDomainMethod::PublicSuffixList}) {
                Step copy = s;
                copy.method = method;
                copy.name = (method == OrgDomainMethod::TreeWalk ? "TreeWalk_" : "Psl_") + base;
                if (method == OrgDomainMethod::TreeWalk) {
                    for (const auto& answer : kTreeWalkAnswers) {
                        if (s.test == answer.test) {
                            copy.want = answer.want;
                            copy.note = answer.why;
                        }
                    }
                }
                steps.push_back(std::move(copy));
            }
        }
    }
    return steps;
}

const std::vector<Step>& all_steps() {
    static const std::vector<Step> steps = load_steps();
    return steps;
}

/// zone-merged.json in a StaticResolver: txt/a/aaaa/mx/ptr replies as records; rcode
/// nxdomain = nothing listed (StaticResolver answers NXDOMAIN), norec = the name exists
/// with no record of the type, timeout = a TIMEOUT marker (added after all records, so a
/// name's listed records are still served). Duplicate entries are loaded once.
dns::StaticResolver& zone() {
    static dns::StaticResolver z;
    static const bool loaded = [] {
        std::ifstream in(*dmarc_corpus("rspamd", "expected.tsv") / "zone-merged.json");
        const auto records = nlohmann::json::parse(in);
        std::set<std::string> seen;
        std::vector<std::string> timeouts;
        for (const auto& r : records) {
            if (!seen.insert(r.dump()).second) {
                continue;
            }
            const auto name = r.at("name").get<std::string>();
            const auto type = util::to_lower(r.at("type").get<std::string>());
            const std::string rcode = r.value("rcode", "");
            if (rcode == "nxdomain") {
                continue;
            }
            if (rcode == "norec") {
                EXPECT_TRUE(z.load_text("\"" + name + "\": []").has_value()) << name;
                continue;
            }
            if (rcode == "timeout") {
                timeouts.push_back(name);
                continue;
            }
            for (const auto& reply : r.value("replies", std::vector<std::string>{})) {
                if (type == "txt") {
                    z.add_txt(name, reply);
                } else if (type == "a" || type == "aaaa") {
                    const auto ip = util::IpAddress::parse(reply);
                    EXPECT_TRUE(ip.has_value()) << reply;
                    if (ip && type == "a") {
                        z.add_a(name, *ip);
                    } else if (ip) {
                        z.add_aaaa(name, *ip);
                    }
                } else if (type == "mx") {
                    std::istringstream fields(reply);
                    int preference = 0;
                    std::string host;
                    fields >> preference >> host;
                    z.add_mx(name, static_cast<std::uint16_t>(preference), host);
                } else if (type == "ptr") {
                    z.add_ptr(name, reply);
                }
            }
        }
        for (const auto& name : timeouts) {
            z.add_failure(name, dns::Rcode::Timeout);
        }
        return true;
    }();
    EXPECT_TRUE(loaded);
    return z;
}

/// "d1:pass,d2:fail" / "-:none" -> DKIM inputs.
std::vector<DkimInput> dkim_inputs(const std::string& column) {
    std::vector<DkimInput> out;
    std::string text = column;
    std::replace(text.begin(), text.end(), ' ', ',');
    for (std::string_view item : util::split(text, ',')) {
        const auto colon = item.rfind(':');
        if (item.empty() || colon == std::string_view::npos || item.substr(0, colon) == "-") {
            continue;
        }
        out.push_back(
            DkimInput{dkim::parse_result(item.substr(colon + 1)).value_or(dkim::Result::PermError),
                      std::string(item.substr(0, colon)), ""});
    }
    return out;
}

class RspamdDmarc : public ::testing::TestWithParam<Step> {};

TEST_P(RspamdDmarc, GivesTheExpectedResultAndDisposition) {
    const Step& s = GetParam();
    const auto dir = *dmarc_corpus("rspamd", "expected.tsv");
    if (!s.note.empty()) {
        std::cout << "[ note ] " << s.name << ": " << s.note << "\n";
    }
    dns::StaticResolver& z = zone();

    // From: exactly as the milter would see it.
    const auto values = conformance::header_values(dir / s.message, "From");
    std::vector<std::string_view> views(values.begin(), values.end());
    const auto authors = message::author_domains(views);
    ASSERT_TRUE(authors.has_value()) << authors.error().message;
    const std::vector<std::string_view> tsv_from{s.header_from};
    EXPECT_EQ(*authors, std::vector<std::string>{*message::author_domain(tsv_from)});

    // SPF with the real evaluator; no client/MAIL FROM = rspamd's default (no SPF pass).
    SpfInput spf;
    if (!s.ip.empty() && !s.mail_from.empty()) {
        const auto ip = util::IpAddress::parse(s.ip);
        ASSERT_TRUE(ip.has_value()) << s.ip;
        util::SystemClock clock;
        const spf::Evaluator spf_evaluator(z, clock);
        const auto outcome = spf_evaluator.check_mail_from(*ip, s.mail_from, "helo.invalid");
        spf = SpfInput{outcome.result, outcome.domain};
    }

    Options options;
    options.method = s.method;
    if (s.method == OrgDomainMethod::PublicSuffixList) {
        options.psl_file =
            *dmarc_corpus("psl", "public_suffix_list.dat") / "public_suffix_list.dat";
    }
    std::string error;
    const auto evaluator = Evaluator::create(z, options, &error);
    ASSERT_TRUE(evaluator.has_value()) << error;
    const auto dkim = dkim_inputs(s.dkim);
    const Outcome outcome = evaluator->evaluate_authors(*authors, spf, dkim);

    std::string got(to_string(outcome.result));
    if (outcome.result == Result::Fail) {
        got += "/" + std::string(to_string(outcome.disposition));
    }
    EXPECT_EQ(got, s.want) << outcome.reason << " (SPF " << spf::to_string(spf.result) << " for '"
                           << spf.domain << "')";
    EXPECT_LE(outcome.dns_queries, 3 * 8);
    conformance::record(
        s.method == OrgDomainMethod::TreeWalk ? "rspamd (tree walk)" : "rspamd (PSL)",
        !s.note.empty());
}

std::string step_name(const ::testing::TestParamInfo<Step>& info) {
    return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Rspamd, RspamdDmarc, ::testing::ValuesIn(all_steps()), step_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RspamdDmarc);

TEST(RspamdDmarcFiles, ArePresent) {
    if (all_steps().empty() || !dmarc_corpus("psl", "public_suffix_list.dat")) {
        conformance::record_skip("rspamd");
        GTEST_SKIP() << "rspamd DMARC cases or the PSL snapshot not found: set "
                        "MAILWARDEN_CORPORA or check out ../shared/corpora/dmarc/";
    }
    EXPECT_EQ(all_steps().size(), 2u * 18u);
    EXPECT_TRUE(load_errors().empty()) << load_errors().front();
}

}  // namespace
}  // namespace mailwarden::auth::dmarc
