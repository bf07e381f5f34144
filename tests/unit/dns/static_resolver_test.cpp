// static_resolver_test.cpp - the in-memory zone: suite zonedata semantics and query log.
#include "dns/static_resolver.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/matchers.hpp"

namespace mailwarden::dns {

void PrintTo(Rcode rcode, std::ostream* os) {
    *os << to_string(rcode);
}

namespace {

using ::testing::ElementsAre;
using testing::HasError;
using testing::IsOk;

constexpr const char* kZone = R"(
example.net:
  - SPF: v=spf1 -all
  - A: 192.0.2.1
  - AAAA: "2001:DB8::1"
  - MX: [10, mx.example.net.]
multi.example.net:
  - TXT: ["v=spf1 ", "ip4:192.0.2.0/24", " -all"]
  - SPF: v=spf1 +all
txtnone.example.net:
  - SPF: v=spf1 -all
  - TXT: NONE
partial.example.net:
  - TXT: v=spf1 -all
  - TIMEOUT
dead.example.net:
  - TIMEOUT
broken.example.net:
  - SERVFAIL
alias.example.net:
  - CNAME: example.net.
loop1.example.net:
  - CNAME: loop2.example.net
loop2.example.net:
  - CNAME: LOOP1.example.net
1.2.0.192.in-addr.arpa:
  - PTR: host.example.net.
null.example.net:
  - SPF: []
deep.sub.example.org:
  - A: 192.0.2.9
)";

class StaticResolverTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_THAT(zone_.load_text(kZone), IsOk()); }
    StaticResolver zone_;
};

TEST_F(StaticResolverTest, ServesEachTypeCaseInsensitively) {
    const auto a = zone_.a("EXAMPLE.net.");
    ASSERT_EQ(a.rcode, Rcode::NoError);
    EXPECT_THAT(a.records, ElementsAre(util::IpAddress::v4(192, 0, 2, 1)));
    EXPECT_EQ(zone_.aaaa("example.net").records.at(0).to_string(), "2001:db8::1");
    EXPECT_THAT(zone_.mx("example.net").records, ElementsAre(MxRecord{10, "mx.example.net"}));
    EXPECT_THAT(zone_.ptr(util::IpAddress::v4(192, 0, 2, 1)).records,
                ElementsAre("host.example.net"));
}

TEST_F(StaticResolverTest, SpfItemsAreServedAsTxtOnlyWithoutExplicitTxt) {
    EXPECT_EQ(zone_.txt("example.net").records.at(0).text(), "v=spf1 -all");
    const auto multi = zone_.txt("multi.example.net");
    ASSERT_EQ(multi.records.size(), 1u);  // the SPF item is not copied: TXT is explicit
    EXPECT_THAT(multi.records[0].strings, ElementsAre("v=spf1 ", "ip4:192.0.2.0/24", " -all"));
    EXPECT_EQ(multi.records[0].text(), "v=spf1 ip4:192.0.2.0/24 -all");
    EXPECT_EQ(zone_.txt("txtnone.example.net").rcode, Rcode::NoData);
}

TEST_F(StaticResolverTest, KeepsNxDomainNoDataAndFailuresApart) {
    EXPECT_EQ(zone_.txt("nowhere.example.net").rcode, Rcode::NxDomain);
    EXPECT_EQ(zone_.mx("multi.example.net").rcode, Rcode::NoData);
    EXPECT_EQ(zone_.a("sub.example.org").rcode, Rcode::NoData);  // an empty non-terminal
    EXPECT_EQ(zone_.txt("dead.example.net").rcode, Rcode::Timeout);
    EXPECT_EQ(zone_.a("dead.example.net").rcode, Rcode::Timeout);
    EXPECT_EQ(zone_.txt("broken.example.net").rcode, Rcode::ServFail);
    // TIMEOUT applies only to types without a record listed before it.
    EXPECT_EQ(zone_.txt("partial.example.net").rcode, Rcode::NoError);
    EXPECT_EQ(zone_.a("partial.example.net").rcode, Rcode::Timeout);
}

TEST_F(StaticResolverTest, FollowsCnamesAndReportsLoopsAsServFail) {
    EXPECT_THAT(zone_.a("alias.example.net").records,
                ElementsAre(util::IpAddress::v4(192, 0, 2, 1)));
    EXPECT_EQ(zone_.a("loop1.example.net").rcode, Rcode::ServFail);
}

TEST_F(StaticResolverTest, NullTextRecordHasNoStrings) {
    const auto answer = zone_.txt("null.example.net");
    ASSERT_EQ(answer.rcode, Rcode::NoError);
    EXPECT_TRUE(answer.records.at(0).strings.empty());
    EXPECT_EQ(answer.records[0].text(), "");
}

TEST_F(StaticResolverTest, LogsEveryQuery) {
    zone_.clear_log();
    (void)zone_.txt("Example.NET");
    (void)zone_.a("alias.example.net");
    EXPECT_THAT(zone_.queries(), ElementsAre(LoggedQuery{RecordType::Txt, "example.net"},
                                             LoggedQuery{RecordType::A, "alias.example.net"}));
    EXPECT_EQ(zone_.query_count(), 2u);
}

TEST(StaticResolverLoad, RejectsMalformedZonesWithAPosition) {
    StaticResolver zone;
    EXPECT_THAT(zone.load_text("a.example: [ {A: not-an-ip} ]"),
                HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(zone.load_text("a.example: [ {BOGUS: x} ]"),
                HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(zone.load_text("a.example: [ {MX: 10} ]"), HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(zone.load_text("a.example: [ WHATEVER ]"), HasError(util::ErrorCode::InvalidInput));
    const auto unterminated = zone.load_text("a.example: [ {A: 1.2.3.4}");
    ASSERT_THAT(unterminated, HasError(util::ErrorCode::InvalidInput));
    ASSERT_TRUE(unterminated.error().where.has_value());
    EXPECT_GT(unterminated.error().where->line, 0);
}

TEST(StaticResolverLoad, LoadsAFileWithAZonedataKey) {
    const auto path = std::filesystem::temp_directory_path() / "mw_static_zone_test.yaml";
    std::ofstream(path) << "zonedata:\n  f.example:\n    - TXT: v=spf1 -all\n";
    StaticResolver zone;
    ASSERT_THAT(zone.load_file(path), IsOk());
    EXPECT_EQ(zone.txt("f.example").records.at(0).text(), "v=spf1 -all");
    std::filesystem::remove(path);
    EXPECT_THAT(zone.load_file(path), HasError(util::ErrorCode::NotFound));
}

TEST(StaticResolverBuild, ProgrammaticRecordsAndFailures) {
    StaticResolver zone;
    zone.add_txt("p.example", "v=spf1 a -all");
    zone.add_a("p.example", util::IpAddress::v4(192, 0, 2, 5));
    zone.add_failure("p.example", Rcode::Refused);
    EXPECT_EQ(zone.txt("p.example").rcode, Rcode::NoError);
    EXPECT_EQ(zone.mx("p.example").rcode, Rcode::Refused);
    zone.set_ttl(std::chrono::seconds(42));
    EXPECT_EQ(zone.a("p.example").ttl, std::chrono::seconds(42));
}

TEST(ReverseName, BothFamilies) {
    EXPECT_EQ(reverse_name(util::IpAddress::v4(192, 0, 2, 1)), "1.2.0.192.in-addr.arpa");
    auto v6 = util::IpAddress::parse("2001:db8::cb01");
    ASSERT_THAT(v6, IsOk());
    EXPECT_EQ(reverse_name(*v6),
              "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

}  // namespace
}  // namespace mailwarden::dns
