// spf_milter_test.cpp - the SPF check in the real daemon, driven by the project's milter
// client: DNS answers come from a static zone (dns.zone_file), so the test is hermetic.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_fixture.hpp"
#include "support/milter_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kZone = R"(
fail.test:
  - TXT: "v=spf1 ip4:192.0.2.0/24 -all exp=explain.fail.test"
explain.fail.test:
  - TXT: "Only our own servers send mail for %{d}; see https://fail.test/spf"
pass.test:
  - TXT: "v=spf1 include:_spf.pass.test -all"
_spf.pass.test:
  - TXT: "v=spf1 ip4:203.0.113.0/24 ip6:2001:db8::/32 ~all"
soft.test:
  - TXT: "v=spf1 ~all"
dmarc-enforced.test:
  - TXT: "v=spf1 -all"
_dmarc.dmarc-enforced.test:
  - TXT: "v=DMARC1; p=reject"
slow.test:
  - TIMEOUT
)";

constexpr std::string_view kConfig = R"(listen: "inet:@PORT@@127.0.0.1"
store: { backend: memory }
events: { journal: @DIR@/events.journal }
control: { enabled: false }
dns: { zone_file: @DIR@/zone.yaml }
spf:
  authserv_id: mx.local.test
  actions: { fail: reject, temperror: tempfail, softfail: continue }
)";

// Writes the zone next to the config and starts a daemon that uses it.
std::unique_ptr<Daemon> start_with_zone() {
    Daemon::Options options;
    auto d = Daemon::start(
        "listen: \"inet:@PORT@@127.0.0.1\"\nstore: { backend: memory }\n"
        "events: { journal: @DIR@/events.journal }\n",
        options);
    EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
    if (!d) {
        return nullptr;
    }
    std::ofstream((*d)->dir() / "zone.yaml") << kZone;
    EXPECT_TRUE((*d)->write_config(std::string(kConfig)).has_value());
    const std::string log = (*d)->reload();
    EXPECT_THAT(log, HasSubstr("configuration reloaded")) << log;
    return std::move(*d);
}

MessageResult send_from(Daemon& daemon, const std::string& sender, const std::string& ip) {
    auto client = daemon.connect();
    EXPECT_TRUE(client.has_value());
    ConnectInfo info;
    info.hostname = "client.example";
    info.address = ip;
    info.family = ip.find(':') == std::string::npos ? '4' : '6';
    auto macros = PostfixMacros::defaults(info);
    EXPECT_TRUE(client->connect_stage(info, macros.connect).has_value());
    EXPECT_TRUE(client->helo("client.example", macros.helo).has_value());
    MessageSpec m;
    m.mail_args = {"<" + sender + ">"};
    m.rcpts = {{"<bob@local.test>"}};
    auto r = client->send_message(m, macros);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : MessageResult{};
}

TEST(SpfMilter, FailIsRejectedAtMailFromWithAPlainReplyAndTheDomainsExplanation) {
    auto daemon = start_with_zone();
    ASSERT_TRUE(daemon);
    const auto r = send_from(*daemon, "ceo@fail.test", "198.51.100.7");
    EXPECT_EQ(r.final_action(), "reject");
    EXPECT_THAT(r.decisive.text, StartsWith("550"));
    EXPECT_THAT(r.decisive.text, HasSubstr("5.7.23"));
    EXPECT_THAT(r.decisive.text, HasSubstr("fail.test"));
    EXPECT_THAT(r.decisive.text, HasSubstr("198.51.100.7"));
    EXPECT_THAT(r.decisive.text, HasSubstr("Only our own servers send mail for fail.test"));
}

TEST(SpfMilter, PassGetsTheReceivedSpfHeader) {
    auto daemon = start_with_zone();
    ASSERT_TRUE(daemon);
    const auto v4 = send_from(*daemon, "alice@pass.test", "203.0.113.9");
    EXPECT_EQ(v4.final_action(), "accept");
    const auto header = v4.added_header("Received-SPF");
    ASSERT_TRUE(header.has_value()) << "no Received-SPF header";
    EXPECT_THAT(*header, StartsWith("pass"));
    EXPECT_THAT(*header, HasSubstr("203.0.113.9"));
    const auto v6 = send_from(*daemon, "alice@pass.test", "2001:db8::25");
    EXPECT_THAT(v6.added_header("Received-SPF").value_or(""), StartsWith("pass"));
}

TEST(SpfMilter, SoftfailContinuesTemperrorTempfailsAndEnforcingDmarcDefers) {
    auto daemon = start_with_zone();
    ASSERT_TRUE(daemon);
    const auto soft = send_from(*daemon, "x@soft.test", "198.51.100.7");
    EXPECT_EQ(soft.final_action(), "accept");
    EXPECT_THAT(soft.added_header("Received-SPF").value_or(""), StartsWith("softfail"));
    const auto slow = send_from(*daemon, "x@slow.test", "198.51.100.7");
    EXPECT_EQ(slow.final_action(), "tempfail");
    EXPECT_THAT(slow.decisive.text, StartsWith("451"));
    const auto dmarc = send_from(*daemon, "x@dmarc-enforced.test", "198.51.100.7");
    EXPECT_EQ(dmarc.final_action(), "accept") << "a fail waits for DMARC when p=reject";
}

TEST(SpfMilter, ABadZoneFileStopsStartUpWithAClearError) {
    TempDir dir("mw-spfbad");
    std::ofstream(dir / "zone.yaml") << "a.test: [ {TXT: ";
    const auto cfg = dir.write("c.yaml", "dns: { zone_file: zone.yaml }\n");
    auto r = run(command(daemon_binary(), {"-c", cfg.string(), "--check-config"}));
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->status, 0);
    EXPECT_THAT(r->output, HasSubstr("zone.yaml"));
}

}  // namespace
}  // namespace mailwarden::testing
