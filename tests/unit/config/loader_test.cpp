#include "config/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/units.hpp"
#include "support/matchers.hpp"

namespace mailwarden::config {
namespace {

using mailwarden::testing::HasError;
using ::testing::HasSubstr;

Config must_load(std::string_view yaml) {
    auto loaded = load_string(yaml, "test.yaml");
    EXPECT_TRUE(loaded.has_value()) << (loaded ? "" : describe(loaded.error()));
    return loaded ? *loaded : Config{};
}

// One error, with its position and message.
struct ErrorCase {
    const char* name;
    const char* yaml;
    int line;
    int column;
    const char* message;
};

TEST(ConfigLoader, EachKindOfErrorNamesFileLineAndColumn) {
    const ErrorCase cases[] = {
        {"unknown top-level key", "listen: \"inet:1@h\"\nbogus: 1\n", 2, 1, "unknown key 'bogus'"},
        {"unknown nested key", "store:\n  backend: redis\n  redis:\n    hots: x\n", 4, 5,
         "unknown key 'hots' in 'store.redis'"},
        {"wrong type: list for scalar", "user: [a, b]\n", 1, 7, "'user' must be a scalar"},
        {"wrong type: scalar for mapping", "store: memory\n", 1, 8, "'store' must be a mapping"},
        {"bad enum", "store: { backend: mongo }\n", 1, 19,
         "'store.backend' must be one of memory, redis, not 'mongo'"},
        {"number out of range", "store: { redis: { port: 70000 } }\n", 1, 25,
         "'store.redis.port' must be between 1 and 65535, not 70000"},
        {"not a number", "events: { batch_size: lots }\n", 1, 23,
         "'events.batch_size' must be a whole number"},
        {"bad duration unit", "shutdown_timeout: 5 weeks\n", 1, 19, "unknown duration unit"},
        {"bad size", "events: { journal_max_size: 3 parsecs }\n", 1, 29, "unknown size unit"},
        {"bad boolean", "headers: { add_status: maybe }\n", 1, 24,
         "'headers.add_status' must be true or false"},
        {"bad listen", "listen: \"tcp:25\"\n", 1, 9, "unknown socket type 'tcp'"},
        {"bad CIDR", "trusted_networks: [\"10.0.0.0/8\", \"10.0.0.0/99\"]\n", 1, 34,
         "bad prefix length"},
        {"bad access action", "access_list:\n  - sender: [a@b.c]\n    action: bounce\n", 3, 13,
         "'access_list[0].action' must be one of allow, reject"},
        {"access rule without field", "access_list:\n  - action: reject\n", 2, 5,
         "must have exactly one of sender, recipient, client, helo (has 0)"},
        {"access rule with two fields",
         "access_list:\n  - sender: a@b.c\n    client: 10.0.0.0/8\n    action: reject\n", 2, 5,
         "(has 2)"},
        {"access code does not fit action",
         "access_list:\n  - sender: a@b.c\n    action: reject\n    code: 451\n", 4, 11,
         "'access_list[0].code' 451 does not fit action reject"},
        {"bad enhanced status",
         "access_list:\n  - sender: a@b.c\n    action: reject\n"
         "    enhanced: \"5.7\"\n",
         4, 15, "not an RFC 3463 status code"},
        {"bad pattern", "access_list:\n  - sender: [\"a b@c\"]\n    action: reject\n", 2, 14,
         "bad pattern 'a b@c'"},
        {"yaml syntax", "store: { backend: memory\n", 2, 1, "end of map flow not found"},
        {"bad socket mode", "socket: { mode: \"0999\" }\n", 1, 17, "octal mode"},
        {"bad forwarder", "dns: { forwarders: [\"127.0.0.1@53\", \"resolver\"] }\n", 1, 37,
         "'dns.forwarders': 'resolver' is not IP or IP@PORT"},
        {"bad spf action", "spf: { actions: { fail: bounce } }\n", 1, 25,
         "'spf.actions.fail' must be one of continue"},
        {"unknown spf result", "spf: { actions: { failed: reject } }\n", 1, 19,
         "unknown key 'failed' in 'spf.actions'"},
        {"bad control listen", "control: { listen: \"localhost\" }\n", 1, 20,
         "'control.listen' must be HOST:PORT"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto loaded = load_string(c.yaml, "test.yaml");
        ASSERT_FALSE(loaded.has_value());
        ASSERT_EQ(loaded.error().size(), 1u) << describe(loaded.error());
        const auto& e = loaded.error().front();
        EXPECT_EQ(e.code, util::ErrorCode::Config);
        ASSERT_TRUE(e.where.has_value());
        EXPECT_EQ(e.where->file, "test.yaml");
        EXPECT_EQ(e.where->line, c.line) << e.describe();
        EXPECT_EQ(e.where->column, c.column) << e.describe();
        EXPECT_THAT(e.message, HasSubstr(c.message));
    }
}

TEST(ConfigLoader, ReportsEveryErrorNotOnlyTheFirst) {
    auto loaded = load_string("a: 1\nb: 2\nstore: { backend: x }\n", "f.yaml");
    ASSERT_FALSE(loaded.has_value());
    EXPECT_EQ(loaded.error().size(), 3u) << describe(loaded.error());
    EXPECT_THAT(describe(loaded.error()), HasSubstr("f.yaml:1:1: unknown key 'a'"));
}

TEST(ConfigLoader, EmptyFileGivesDefaults) {
    const Config c = must_load("");
    EXPECT_EQ(c.listen, "inet:8891@127.0.0.1");
    EXPECT_EQ(c.store.backend, StoreBackend::Memory);
    EXPECT_EQ(c.on_internal_error, policy::Action::Tempfail);
    EXPECT_TRUE(c.headers.add_status);
}

TEST(ConfigLoader, ReadsAFullConfig) {
    const Config c = must_load(R"(
listen: "inet:127.0.0.1:8891"
socket: { mode: "0600", owner: postfix }
user: mailwarden
shutdown_timeout: 10s
on_internal_error: accept
log: { target: syslog, level: debug }
store:
  backend: redis
  redis: { host: 10.1.1.1, port: 6380, prefix: "x:", command_timeout: 250ms, pool_size: 4 }
events: { queue_capacity: 500, batch_size: 10, journal: /tmp/j, journal_max_size: 64MB }
trusted_networks: ["192.0.2.0/24", "2001:db8::/32"]
control: { listen: "[::1]:9000" }
dns: { timeout: 2s, forwarders: ["192.0.2.53", "127.0.0.1@5353"] }
spf: { check_helo: true, mode: warn, actions: { softfail: quarantine } }
access_list:
  - name: spammers
    sender: ["spammer@example.com", "@bad.example", ".worse.example", "<>"]
    action: reject
    code: 554
    enhanced: "5.7.1"
    reply: "No.\nReally not."
  - client: 198.51.100.0/24
    action: tempfail
    mode: warn
  - recipient: [postmaster@]
    action: allow
    final: true
)");
    EXPECT_EQ(c.listen, "inet:8891@127.0.0.1");
    EXPECT_EQ(c.socket.mode, 0600u);
    EXPECT_EQ(c.shutdown_timeout, std::chrono::seconds(10));
    EXPECT_EQ(c.on_internal_error, policy::Action::Accept);
    EXPECT_EQ(c.log.target, LogTarget::Syslog);
    EXPECT_EQ(c.store.backend, StoreBackend::Redis);
    EXPECT_EQ(c.store.redis.port, 6380);
    EXPECT_EQ(c.store.redis.command_timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(c.events.journal_max_size, 64u << 20);
    ASSERT_EQ(c.trusted_networks.size(), 2u);
    EXPECT_EQ(c.control.host, "::1");
    EXPECT_EQ(c.control.port, 9000);
    EXPECT_EQ(c.dns.timeout, std::chrono::seconds(2));
    EXPECT_EQ(c.dns.forwarders.size(), 2u);
    EXPECT_TRUE(c.spf.check_helo);
    EXPECT_TRUE(c.spf.warn_only);
    EXPECT_EQ(c.spf.actions.at("softfail"), policy::Action::Quarantine);
    EXPECT_EQ(c.spf.actions.at("fail"), policy::Action::Reject) << "defaults stay";
    ASSERT_EQ(c.access_list.size(), 3u);
    EXPECT_EQ(c.access_list[0].name, "spammers");
    EXPECT_EQ(c.access_list[0].patterns.size(), 4u);
    EXPECT_EQ(c.access_list[0].code, 554);
    EXPECT_EQ(c.access_list[0].where.line, 17);
    EXPECT_EQ(c.access_list[1].field, AccessField::Client);
    EXPECT_TRUE(c.access_list[1].warn_only);
    EXPECT_EQ(c.access_list[1].name, "access_list[1]");
    EXPECT_TRUE(c.access_list[2].final);
}

TEST(ConfigLoader, ReadsTheAuthenticationSections) {
    auto loaded = load_string(R"(
dkim: { check_outbound: true, max_signatures: 4, min_rsa_bits: 2048 }
dmarc: { org_domain: psl, on_reject: quarantine, on_quarantine: tag, on_temperror: tempfail }
authentication_results: { authserv_id: mx.example.org, remove_forged: false }
outbound_ips: ["198.51.100.7", "2001:db8::/64"]
dkim_signing_domains: [Example.ORG.]
preflight: { action: reject, header_name: X-Preflight }
)",
                              "auth.yaml");
    ASSERT_TRUE(loaded.has_value()) << describe(loaded.error());
    const Config& c = *loaded;
    EXPECT_TRUE(c.dkim.check_outbound);
    EXPECT_EQ(c.dkim.max_signatures, 4u);
    EXPECT_EQ(c.dkim.min_rsa_bits, 2048u);
    EXPECT_EQ(c.dmarc.org_domain_method, "psl");
    EXPECT_EQ(c.dmarc.on_reject, DmarcAction::Quarantine);
    EXPECT_EQ(c.dmarc.on_quarantine, DmarcAction::Tag);
    EXPECT_EQ(c.dmarc.on_temperror, policy::Action::Tempfail);
    EXPECT_EQ(c.authentication_results.authserv_id, "mx.example.org");
    EXPECT_FALSE(c.authentication_results.remove_forged);
    ASSERT_EQ(c.outbound_ips.size(), 2u);
    EXPECT_EQ(c.outbound_ips[1].prefix_length(), 64);
    EXPECT_EQ(c.dkim_signing_domains, std::vector<std::string>{"example.org"});
    EXPECT_EQ(c.preflight.action, PreflightAction::Reject);
    EXPECT_EQ(c.preflight.header_name, "X-Preflight");
}

TEST(ConfigLoader, AuthenticationSectionErrorsNameTheKeyAndLine) {
    auto loaded = load_string(
        "dmarc:\n  on_reject: bounce\npreflight: { action: shout }\n"
        "outbound_ips: [not-an-ip]\n",
        "bad.yaml");
    ASSERT_FALSE(loaded.has_value());
    const std::string text = describe(loaded.error());
    EXPECT_THAT(text, HasSubstr("bad.yaml:2:"));
    EXPECT_THAT(text, HasSubstr("'dmarc.on_reject' must be one of none, tag, quarantine, reject"));
    EXPECT_THAT(text, HasSubstr("preflight.action"));
    EXPECT_THAT(text, HasSubstr("not-an-ip"));
}

TEST(ConfigLoader, MissingFileIsAClearError) {
    auto loaded = load_file("/nonexistent/mailwarden.yaml");
    ASSERT_FALSE(loaded.has_value());
    EXPECT_THAT(describe(loaded.error()), HasSubstr("cannot read /nonexistent/mailwarden.yaml"));
}

TEST(ConfigLoader, ShippedConfigsAreValid) {
    for (const char* name : {"conf/quickstart.yaml", "conf/mailwarden.yaml"}) {
        SCOPED_TRACE(name);
        auto loaded = load_file(std::string(MW_SOURCE_DIR) + "/" + name);
        EXPECT_TRUE(loaded.has_value()) << (loaded ? "" : describe(loaded.error()));
    }
}

TEST(NormalizeListen, AcceptsLibmilterAndPostfixForms) {
    struct Case {
        const char* in;
        const char* out;
    };
    const Case cases[] = {
        {"inet:8891@127.0.0.1", "inet:8891@127.0.0.1"},
        {"inet:127.0.0.1:8891", "inet:8891@127.0.0.1"},
        {"inet:[::1]:8891", "inet6:8891@::1"},
        {"inet6:8891@[::1]", "inet6:8891@[::1]"},
        {"inet:8891", "inet:8891"},
        {"unix:/run/mw.sock", "unix:/run/mw.sock"},
        {"local:/run/mw.sock", "unix:/run/mw.sock"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.in);
        auto n = normalize_listen(c.in);
        ASSERT_TRUE(n.has_value()) << n.error().message;
        EXPECT_EQ(*n, c.out);
    }
    for (const char* bad : {"", "8891", "inet:", "inet:0@h", "inet:x@h", "unix:relative",
                            "inet:1@127.0.0.1 x", "tcp:1@h", "inet:host:99999"}) {
        SCOPED_TRACE(bad);
        EXPECT_THAT(normalize_listen(bad), HasError(util::ErrorCode::InvalidInput));
    }
}

TEST(Units, DurationsAndSizes) {
    EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
    EXPECT_EQ(*parse_duration("30"), std::chrono::seconds(30));
    EXPECT_EQ(*parse_duration("5m"), std::chrono::minutes(5));
    EXPECT_EQ(*parse_duration("35d"), std::chrono::hours(35 * 24));
    EXPECT_THAT(parse_duration("-1s"), HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(parse_duration("99999999999d"), HasError(util::ErrorCode::InvalidInput));
    EXPECT_EQ(*parse_size("64KB"), 64u * 1024);
    EXPECT_EQ(*parse_size("1GB"), 1ull << 30);
    EXPECT_THAT(parse_size("1TB"), HasError(util::ErrorCode::InvalidInput));
}

}  // namespace
}  // namespace mailwarden::config
