#include "util/ip_address.hpp"

#include <gtest/gtest.h>

#include "support/matchers.hpp"

namespace mailwarden::util {
namespace {

using mailwarden::testing::HasError;
using mailwarden::testing::IsOk;

TEST(IpAddress, ParsesBothFamiliesAndBrackets) {
    struct Case {
        const char* input;
        const char* want;
        bool v4;
    };
    const Case cases[] = {
        {"192.0.2.1", "192.0.2.1", true},
        {"2001:DB8::1", "2001:db8::1", false},
        {"[192.0.2.7]", "192.0.2.7", true},
        {"[IPv6:2001:db8::2]", "2001:db8::2", false},
        {" 10.0.0.1 ", "10.0.0.1", true},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.input);
        auto ip = IpAddress::parse(c.input);
        ASSERT_THAT(ip, IsOk());
        EXPECT_EQ(ip->to_string(), c.want);
        EXPECT_EQ(ip->is_v4(), c.v4);
    }
}

TEST(IpAddress, RejectsGarbage) {
    for (const char* bad : {"", "1.2.3", "1.2.3.256", "::g", "example.com", "1.2.3.4/24"}) {
        SCOPED_TRACE(bad);
        EXPECT_THAT(IpAddress::parse(bad), HasError(ErrorCode::InvalidInput));
    }
}

TEST(IpAddress, UnmapsIpv4MappedAddresses) {
    auto ip = IpAddress::parse("::ffff:192.0.2.9");
    ASSERT_THAT(ip, IsOk());
    EXPECT_TRUE(ip->is_v4_mapped());
    EXPECT_EQ(ip->unmapped().to_string(), "192.0.2.9");
    EXPECT_TRUE(ip->unmapped().is_v4());
}

TEST(Cidr, ContainsAndRejects) {
    auto net = Cidr::parse("192.0.2.0/24");
    ASSERT_THAT(net, IsOk());
    EXPECT_TRUE(net->contains(*IpAddress::parse("192.0.2.200")));
    EXPECT_TRUE(net->contains(*IpAddress::parse("::ffff:192.0.2.1")));
    EXPECT_FALSE(net->contains(*IpAddress::parse("192.0.3.1")));
    EXPECT_FALSE(net->contains(*IpAddress::parse("2001:db8::1")));

    auto v6 = Cidr::parse("2001:db8:abcd::/48");
    ASSERT_THAT(v6, IsOk());
    EXPECT_TRUE(v6->contains(*IpAddress::parse("2001:db8:abcd:1::5")));
    EXPECT_FALSE(v6->contains(*IpAddress::parse("2001:db8:abce::5")));
    EXPECT_EQ(Cidr::parse("10.1.2.3/8")->to_string(), "10.0.0.0/8");
}

TEST(Cidr, OddPrefixLengthsAndErrors) {
    auto net = Cidr::parse("198.51.100.0/23");
    ASSERT_THAT(net, IsOk());
    EXPECT_TRUE(net->contains(*IpAddress::parse("198.51.101.255")));
    EXPECT_FALSE(net->contains(*IpAddress::parse("198.51.102.0")));
    EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*IpAddress::parse("8.8.8.8")));
    for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "::/129", "/8"}) {
        SCOPED_TRACE(bad);
        EXPECT_THAT(Cidr::parse(bad), HasError(ErrorCode::InvalidInput));
    }
}

}  // namespace
}  // namespace mailwarden::util
