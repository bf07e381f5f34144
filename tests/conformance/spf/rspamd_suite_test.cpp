// rspamd_suite_test.cpp - rspamd's SPF functional checks (117_spf), run through check_host.
//
// Reads ../shared/corpora/spf/rspamd/{expected.tsv,zone-merged.json}: the zone is served
// by a resolver that answers exactly as listed (name/type -> replies or rcode; anything
// else NXDOMAIN), each expected.tsv row is one test named after it. Where the README marks
// rspamd's expectation as rspamd policy rather than RFC 7208, the RFC 7208 result is
// asserted instead (and printed); the rspamd-only "external relay" case is skipped with
// its reason.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "auth/spf/evaluator.hpp"
#include "support/paths.hpp"
#include "util/ascii.hpp"
#include "util/clock.hpp"

namespace mailwarden::auth::spf {
namespace {

// Answers from rspamd's fake_records: (name, type) -> replies or an rcode.
class RspamdZone final : public dns::Resolver {
  public:
    explicit RspamdZone(const nlohmann::json& records) {
        for (const auto& r : records) {
            Entry e;
            const std::string rcode = r.value("rcode", "");
            if (rcode == "nxdomain") {
                e.rcode = dns::Rcode::NxDomain;
            } else if (rcode == "norec") {
                e.rcode = dns::Rcode::NoData;
            } else if (rcode == "timeout") {
                e.rcode = dns::Rcode::Timeout;
            } else {
                e.rcode = dns::Rcode::NoError;
                e.replies = r.value("replies", std::vector<std::string>{});
            }
            entries_[{dns::normalize_name(r.at("name").get<std::string>()),
                      util::to_lower(r.at("type").get<std::string>())}] = std::move(e);
        }
    }

    dns::Answer<dns::TxtRecord> txt(std::string_view name) override {
        return answer<dns::TxtRecord>(name, "txt", [](const std::string& s) {
            return std::optional<dns::TxtRecord>(dns::TxtRecord{{s}});
        });
    }
    dns::Answer<util::IpAddress> a(std::string_view name) override { return address(name, "a"); }
    dns::Answer<util::IpAddress> aaaa(std::string_view name) override {
        return address(name, "aaaa");
    }
    dns::Answer<dns::MxRecord> mx(std::string_view name) override {
        return answer<dns::MxRecord>(name, "mx", [](const std::string& s) {
            std::istringstream in(s);
            int preference = 0;
            std::string host;
            in >> preference >> host;
            return std::optional<dns::MxRecord>(
                dns::MxRecord{static_cast<std::uint16_t>(preference), dns::normalize_name(host)});
        });
    }
    dns::Answer<std::string> ptr(const util::IpAddress& ip) override {
        return answer<std::string>(dns::reverse_name(ip), "ptr", [](const std::string& s) {
            return std::optional<std::string>(dns::normalize_name(s));
        });
    }

  private:
    struct Entry {
        dns::Rcode rcode = dns::Rcode::NxDomain;
        std::vector<std::string> replies;
    };

    dns::Answer<util::IpAddress> address(std::string_view name, const char* type) {
        return answer<util::IpAddress>(name, type, [](const std::string& s) {
            auto ip = util::IpAddress::parse(s);
            return ip ? std::optional<util::IpAddress>(*ip) : std::nullopt;
        });
    }

    template <class T, class Convert>
    dns::Answer<T> answer(std::string_view name, const char* type, Convert convert) {
        dns::Answer<T> out;
        out.rcode = dns::Rcode::NxDomain;
        out.ttl = std::chrono::seconds(300);
        const auto it = entries_.find({dns::normalize_name(name), type});
        if (it == entries_.end()) {
            return out;
        }
        out.rcode = it->second.rcode;
        for (const auto& reply : it->second.replies) {
            if (auto v = convert(reply)) {
                out.records.push_back(std::move(*v));
            }
        }
        if (out.rcode == dns::Rcode::NoError && out.records.empty()) {
            out.rcode = dns::Rcode::NoData;
        }
        return out;
    }

    std::map<std::pair<std::string, std::string>, Entry> entries_;
};

struct RspamdCase {
    std::string name;
    std::string ip;
    std::string mail_from;
    std::string helo;
    std::string want;
    std::string note;  // why the RFC 7208 answer differs from rspamd's, or why it is skipped
    bool skip = false;
};

void PrintTo(const RspamdCase& c, std::ostream* os) {
    *os << c.name;
}

std::optional<std::filesystem::path> suite_dir() {
    const auto corpora = mailwarden::testing::corpora_dir();
    if (!corpora || !std::filesystem::exists(*corpora / "spf/rspamd/expected.tsv")) {
        return std::nullopt;
    }
    return *corpora / "spf/rspamd";
}

std::vector<RspamdCase> load_cases() {
    std::vector<RspamdCase> cases;
    const auto dir = suite_dir();
    if (!dir) {
        return cases;
    }
    std::ifstream in(*dir / "expected.tsv");
    std::string line;
    std::getline(in, line);  // header
    std::map<std::string, int> seen;
    while (std::getline(in, line)) {
        const auto f = util::split(line, '\t');
        if (f.size() < 10) {
            continue;
        }
        RspamdCase c;
        c.name = std::string(f[0]);
        const int n = ++seen[c.name];
        for (char& ch : c.name) {
            if (!std::isalnum(static_cast<unsigned char>(ch))) {
                ch = '_';
            }
        }
        if (n > 1) {
            c.name += "_" + std::to_string(n);
        }
        c.ip = std::string(f[1]);
        c.mail_from = std::string(f[2]);
        c.helo = std::string(f[3]);
        std::string want(f[6]);
        want = want.substr(0, want.find_first_of(", "));  // "temperror,dmarc ..." "pass (+all)"
        c.want = want;
        const std::string_view test = f[0];
        if (test == "SPF EXTERNAL RELAY") {
            c.skip = true;
            c.note = "rspamd-specific: the client comes from a Received header (external relay)";
        } else if (test == "SPF FAIL UNRESOLVEABLE INCLUDE") {
            c.want = "permerror";
            c.note =
                "RFC 7208 §5.2: include of a name without SPF record is permerror "
                "(rspamd: fail)";
        } else if (test == "SPF ALLOW DNS REQUESTS AT LIMIT") {
            c.want = "permerror";
            c.note =
                "RFC 7208 §4.6.4: more than 10 DNS-querying terms is permerror "
                "(rspamd's limit is 30: pass)";
        }
        cases.push_back(std::move(c));
    }
    return cases;
}

const std::vector<RspamdCase>& all_cases() {
    static const std::vector<RspamdCase> cases = load_cases();
    return cases;
}

RspamdZone& zone() {
    static RspamdZone z = [] {
        std::ifstream in(*suite_dir() / "zone-merged.json");
        return RspamdZone(nlohmann::json::parse(in));
    }();
    return z;
}

class RspamdSuite : public ::testing::TestWithParam<RspamdCase> {};

TEST_P(RspamdSuite, GivesTheRfc7208Result) {
    const RspamdCase& c = GetParam();
    if (c.skip) {
        GTEST_SKIP() << c.note;
    }
    if (!c.note.empty()) {
        std::cout << "[ note ] " << c.name << ": " << c.note << "\n";
    }
    auto ip = util::IpAddress::parse(c.ip);
    ASSERT_TRUE(ip.has_value()) << c.ip;
    util::SystemClock clock;
    const Evaluator evaluator(zone(), clock);
    const Outcome outcome = evaluator.check_mail_from(*ip, c.mail_from, c.helo);
    EXPECT_EQ(to_string(outcome.result), c.want) << outcome.full_trace();
}

std::string case_name(const ::testing::TestParamInfo<RspamdCase>& info) {
    return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Rspamd, RspamdSuite, ::testing::ValuesIn(all_cases()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RspamdSuite);

TEST(RspamdSuiteFile, IsPresent) {
    if (!suite_dir()) {
        GTEST_SKIP() << "rspamd SPF cases not found: set MAILWARDEN_CORPORA or check out "
                        "../shared/corpora/spf/rspamd/";
    }
    EXPECT_EQ(all_cases().size(), 39u);
}

}  // namespace
}  // namespace mailwarden::auth::spf
