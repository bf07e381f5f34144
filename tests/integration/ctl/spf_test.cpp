// spf_test.cpp - `mailwardenctl spf`: an admin's "why did SPF give this?" on a static zone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_fixture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kZone = R"(
example.test:
  - TXT: "v=spf1 include:_spf.example.test -all"
_spf.example.test:
  - TXT: "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all"
broken.test:
  - TXT: "v=spf1 ip4:192.0.2.0/33 -all"
)";

RunResult ctl(const std::vector<std::string>& args) {
    auto r = run(command(ctl_binary(), args));
    EXPECT_TRUE(r.has_value());
    return r ? *r : RunResult{};
}

TEST(CtlSpf, JsonGivesResultMechanismAndLookupCounts) {
    TempDir dir("mw-ctl-spf");
    const auto zone = dir.write("zone.yaml", kZone);
    const auto pass =
        ctl({"spf", "example.test", "192.0.2.7", "--dns-zone", zone.string(), "--json"});
    ASSERT_EQ(pass.status, 0) << pass.output;
    const auto json = nlohmann::json::parse(pass.output, nullptr, false);
    ASSERT_TRUE(json.is_object()) << pass.output;
    EXPECT_EQ(json["result"], "pass");
    EXPECT_EQ(json["mechanism"], "ip4:192.0.2.0/24");
    EXPECT_EQ(json["dns_lookups"], 1);
    EXPECT_EQ(json["void_lookups"], 0);
    EXPECT_TRUE(json.contains("explanation"));

    const auto fail =
        ctl({"spf", "example.test", "198.51.100.1", "--dns-zone", zone.string(), "--json"});
    const auto f = nlohmann::json::parse(fail.output, nullptr, false);
    EXPECT_EQ(f["result"], "fail");
    EXPECT_EQ(f["mechanism"], "-all");
    EXPECT_THAT(f["explanation"].get<std::string>(), HasSubstr("198.51.100.1"));

    const auto soft =
        ctl({"spf", "example.test", "2001:db8::1", "--dns-zone", zone.string(), "--json"});
    EXPECT_EQ(nlohmann::json::parse(soft.output, nullptr, false)["result"], "pass");
}

TEST(CtlSpf, HumanOutputShowsTheTraceAndErrorsNameTheTerm) {
    TempDir dir("mw-ctl-spf");
    const auto zone = dir.write("zone.yaml", kZone);
    const auto out = ctl({"spf", "example.test", "198.51.100.1", "--dns-zone", zone.string()});
    EXPECT_EQ(out.status, 0) << out.output;
    EXPECT_THAT(out.output, HasSubstr("result:       fail"));
    EXPECT_THAT(out.output, HasSubstr("_spf.example.test (include:_spf.example.test)"));
    const auto broken =
        ctl({"spf", "broken.test", "192.0.2.1", "--dns-zone", zone.string(), "--json"});
    const auto b = nlohmann::json::parse(broken.output, nullptr, false);
    EXPECT_EQ(b["result"], "permerror");
    EXPECT_THAT(b["error_term"].get<std::string>(), HasSubstr("192.0.2.0/33"));
    const auto bad_ip = ctl({"spf", "example.test", "not-an-ip", "--dns-zone", zone.string()});
    EXPECT_NE(bad_ip.status, 0);
}

}  // namespace
}  // namespace mailwarden::testing
