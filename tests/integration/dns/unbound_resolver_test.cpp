// unbound_resolver_test.cpp - UnboundResolver against a real unbound on loopback.
//
// Each test starts a private unbound (tests/support/unbound_server) serving a small static
// zone, points the resolver at it as a forwarder and stops it afterwards. The timeout test
// uses a UDP socket that never answers. Skips with a reason when unbound is not installed.
#include "dns/unbound_resolver.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "auth/spf/evaluator.hpp"
#include "support/matchers.hpp"
#include "support/unbound_server.hpp"
#include "util/clock.hpp"

namespace mailwarden::dns {

void PrintTo(Rcode rcode, std::ostream* os) {
    *os << to_string(rcode);
}

namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

const std::vector<std::string> kZone = {
    R"(multi.test.example. 300 IN TXT "v=spf1 ip4:192.0.2.0/24" " ip6:2001:db8::/32" " -all")",
    R"(multi.test.example. 300 IN TXT "unrelated=1")",
    "host.test.example. 300 IN A 192.0.2.10",
    "host.test.example. 300 IN A 192.0.2.11",
    "host.test.example. 300 IN A 5.6.7.10",
    "host.test.example. 300 IN AAAA 2001:db8::10",
    R"(odd\032name%.test.example. 300 IN A 192.0.2.50)",
    "test.example. 300 IN MX 10 host.test.example.",
    "test.example. 300 IN MX 20 backup.test.example.",
    "10.7.6.5.in-addr.arpa. 300 IN PTR host.test.example.",
    R"(test.example. 300 IN TXT "v=spf1 mx a:host.test.example include:multi.test.example -all")",
};

class UnboundResolverTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string why;
        server_ =
            testing::UnboundServer::start({"test.example.", "7.6.5.in-addr.arpa."}, kZone, why);
        if (!server_) {
            GTEST_SKIP() << "skipping: " << why;
        }
        UnboundOptions options;
        options.forwarders = {server_->forwarder()};
        options.query_timeout = std::chrono::milliseconds(3000);
        auto resolver = UnboundResolver::create(options);
        ASSERT_THAT(resolver, testing::IsOk());
        resolver_ = std::move(*resolver);
    }

    std::optional<testing::UnboundServer> server_;
    std::unique_ptr<UnboundResolver> resolver_;
};

TEST_F(UnboundResolverTest, TxtKeepsSeveralStringsOfOneRecord) {
    const auto answer = resolver_->txt("multi.test.example");
    ASSERT_EQ(answer.rcode, Rcode::NoError);
    ASSERT_EQ(answer.records.size(), 2u);
    std::vector<std::string> joined;
    for (const auto& r : answer.records) {
        joined.push_back(r.text());
    }
    EXPECT_THAT(joined, UnorderedElementsAre("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all",
                                             "unrelated=1"));
    for (const auto& r : answer.records) {
        if (r.strings.size() > 1) {
            EXPECT_THAT(r.strings,
                        ElementsAre("v=spf1 ip4:192.0.2.0/24", " ip6:2001:db8::/32", " -all"));
        }
    }
    EXPECT_GT(answer.ttl.count(), 0);
    EXPECT_LE(answer.ttl.count(), 300);
}

TEST_F(UnboundResolverTest, AddressMxAndPtrRecords) {
    const auto a = resolver_->a("HOST.test.example.");
    ASSERT_EQ(a.rcode, Rcode::NoError);
    EXPECT_THAT(a.records, UnorderedElementsAre(util::IpAddress::v4(192, 0, 2, 10),
                                                util::IpAddress::v4(192, 0, 2, 11),
                                                util::IpAddress::v4(5, 6, 7, 10)));
    const auto aaaa = resolver_->aaaa("host.test.example");
    ASSERT_EQ(aaaa.rcode, Rcode::NoError);
    EXPECT_EQ(aaaa.records.at(0).to_string(), "2001:db8::10");
    const auto mx = resolver_->mx("test.example");
    ASSERT_EQ(mx.rcode, Rcode::NoError);
    EXPECT_THAT(mx.records, UnorderedElementsAre(MxRecord{10, "host.test.example"},
                                                 MxRecord{20, "backup.test.example"}));
    const auto ptr = resolver_->ptr(util::IpAddress::v4(5, 6, 7, 10));
    ASSERT_EQ(ptr.rcode, Rcode::NoError);
    EXPECT_THAT(ptr.records, ElementsAre("host.test.example"));
}

TEST_F(UnboundResolverTest, NamesWithSpacesFromMacrosAreQueriedAsOneLabel) {
    // %_ in an SPF macro puts a space into a label (RFC 7208 §7.1).
    const auto answer = resolver_->a("odd name%.test.example");
    ASSERT_EQ(answer.rcode, Rcode::NoError);
    EXPECT_THAT(answer.records, ElementsAre(util::IpAddress::v4(192, 0, 2, 50)));
}

TEST_F(UnboundResolverTest, NxDomainAndNoDataStayApart) {
    const auto missing = resolver_->txt("missing.test.example");
    EXPECT_EQ(missing.rcode, Rcode::NxDomain);
    EXPECT_TRUE(missing.records.empty());
    const auto no_txt = resolver_->txt("host.test.example");
    EXPECT_EQ(no_txt.rcode, Rcode::NoData);
    EXPECT_TRUE(no_txt.records.empty());
}

TEST_F(UnboundResolverTest, SecondQueryIsAnsweredFromTheCache) {
    ASSERT_EQ(resolver_->txt("multi.test.example").rcode, Rcode::NoError);
    ASSERT_EQ(resolver_->txt("multi.test.example").rcode, Rcode::NoError);
    EXPECT_EQ(server_->queries_for("multi.test.example."), 1);
    server_->stop();  // with the server gone, only the cache can answer
    const auto cached = resolver_->txt("multi.test.example");
    EXPECT_EQ(cached.rcode, Rcode::NoError);
    EXPECT_EQ(cached.records.size(), 2u);
}

TEST_F(UnboundResolverTest, ConcurrentQueriesFromManyThreads) {
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                if (resolver_->a("host.test.example").records.size() == 3 &&
                    resolver_->txt("missing.test.example").rcode == Rcode::NxDomain) {
                    ++good;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(good.load(), 200);
}

TEST_F(UnboundResolverTest, EvaluatesSpfThroughTheRealServer) {
    util::SystemClock clock;
    auth::spf::Evaluator evaluator(*resolver_, clock);
    const auto pass = evaluator.check_mail_from(util::IpAddress::v4(192, 0, 2, 77),
                                                "<a@test.example>", "mail.test.example");
    EXPECT_EQ(pass.result, auth::spf::Result::Pass) << pass.full_trace();
    EXPECT_EQ(pass.trace.decided_by, "ip4:192.0.2.0/24");
    const auto fail = evaluator.check_mail_from(util::IpAddress::v4(198, 51, 100, 1),
                                                "<a@test.example>", "mail.test.example");
    EXPECT_EQ(fail.result, auth::spf::Result::Fail) << fail.full_trace();
}

TEST(UnboundResolverTimeout, ServerThatNeverAnswersGivesTimeout) {
    // A bound UDP socket that nobody reads: queries vanish.
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    UnboundOptions options;
    options.forwarders = {"127.0.0.1@" + std::to_string(ntohs(addr.sin_port))};
    options.query_timeout = std::chrono::milliseconds(300);
    auto resolver = UnboundResolver::create(options);
    ASSERT_THAT(resolver, testing::IsOk());
    const auto start = std::chrono::steady_clock::now();
    const auto answer = (*resolver)->txt("silent.example");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(answer.rcode, Rcode::Timeout);
    EXPECT_GE(elapsed, std::chrono::milliseconds(300));
    EXPECT_LT(elapsed, std::chrono::milliseconds(2000));
    // SPF maps it to temperror, never fail (RFC 7208 §4.4).
    util::SystemClock clock;
    auth::spf::Evaluator evaluator(**resolver, clock);
    const auto outcome =
        evaluator.check_mail_from(util::IpAddress::v4(192, 0, 2, 1), "a@silent.example", "h.x");
    EXPECT_EQ(outcome.result, auth::spf::Result::TempError);
    resolver->reset();
    ::close(fd);
}

TEST(UnboundResolverConfig, RejectsABadForwarder) {
    UnboundOptions options;
    options.forwarders = {"not an address"};
    EXPECT_THAT(UnboundResolver::create(options), testing::HasError(util::ErrorCode::Config));
}

}  // namespace
}  // namespace mailwarden::dns
