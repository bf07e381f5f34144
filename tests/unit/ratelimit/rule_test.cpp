// rule_test.cpp - rate strings, config words and rule validation (named case tables).
#include "ratelimit/rule.hpp"

#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/matchers.hpp"

namespace mailwarden::ratelimit {
namespace {

using mailwarden::testing::HasError;
using util::ErrorCode;
using namespace std::chrono_literals;

struct RateCase {
    const char* name;
    const char* text;
    std::int64_t limit;
    std::chrono::milliseconds period;
};

TEST(ParseRate, AcceptsTheUsualForms) {
    const RateCase cases[] = {
        {"minute", "30/1m", 30, 1min},           {"day", "500/1d", 500, 24h},
        {"spaces", " 100 / 1m ", 100, 1min},     {"implied one", "100/m", 100, 1min},
        {"seconds", "10/90s", 10, 90s},          {"hour word", "5/2hour", 5, 2h},
        {"upper case unit", "5/1H", 5, 1h},      {"week", "1000/1w", 1000, 7 * 24h},
        {"long words", "3/10minutes", 3, 10min}, {"limit max", "1000000/1d", 1'000'000, 24h},
    };
    for (const auto& c : cases) {
        auto w = parse_rate(c.text);
        ASSERT_TRUE(w.has_value()) << c.name << ": " << w.error().describe();
        EXPECT_EQ(w->limit, c.limit) << c.name;
        EXPECT_EQ(w->period, c.period) << c.name;
    }
}

TEST(ParseRate, RejectsWithAClearMessage) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "expected LIMIT/PERIOD"},
        {"30", "expected LIMIT/PERIOD"},
        {"x/1m", "not a whole number"},
        {"-1/1m", "limit must be 1"},
        {"0/1m", "limit must be 1"},
        {"1000001/1d", "limit must be 1"},
        {"30/1y", "unknown period unit \"y\""},
        {"30/", "unknown period unit"},
        {"30/0m", "period must be 1s to 366d"},
        {"30/367d", "period must be 1s to 366d"},
        {"30/99999999999999999999s", "period count too large"},
        {"30/1m/2", "unknown period unit"},
        {"99999999999999999999/1m", "not a whole number"},
    };
    for (const auto& [text, message] : cases) {
        auto w = parse_rate(text);
        ASSERT_FALSE(w.has_value()) << text;
        EXPECT_EQ(w.error().code, ErrorCode::InvalidInput) << text;
        EXPECT_THAT(w.error().message, ::testing::HasSubstr(message)) << text;
    }
}

TEST(ParseWords, KeysCountsScopesActions) {
    auto key = parse_key("login+client_ip");
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(*key, (std::vector<KeyPart>{KeyPart::Login, KeyPart::ClientIp}));
    EXPECT_EQ(key_name(*key), "login+client_ip");
    EXPECT_EQ(parse_key("client_prefix")->front(), KeyPart::ClientPrefix);
    EXPECT_THAT(parse_key("login+login"), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(parse_key("user"), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(parse_key(""), HasError(ErrorCode::InvalidInput));
    EXPECT_EQ(*parse_counts("recipients"), Counts::Recipients);
    EXPECT_THAT(parse_counts("bytes"), HasError(ErrorCode::InvalidInput));
    EXPECT_EQ(*parse_scope("both"), Scope::Both);
    EXPECT_THAT(parse_scope("sideways"), HasError(ErrorCode::InvalidInput));
    EXPECT_EQ(*parse_action("quarantine"), Action::Quarantine);
    EXPECT_THAT(parse_action("drop"), HasError(ErrorCode::InvalidInput));
    for (auto a : {Action::Tempfail, Action::Reject, Action::Quarantine}) {
        EXPECT_EQ(*parse_action(to_string(a)), a);
    }
}

TEST(FormatPeriod, ShortestExactForm) {
    EXPECT_EQ(format_period(1min), "1m");
    EXPECT_EQ(format_period(90s), "90s");
    EXPECT_EQ(format_period(24h), "1d");
    EXPECT_EQ(format_period(36h), "36h");
    EXPECT_EQ(format_period(14 * 24h), "2w");
    EXPECT_EQ(format_period(1500ms), "1500ms");
    EXPECT_EQ(format_rate(Window{30, 1min}), "30/1m");
}

Rule good_rule(std::string name = "outbound-login") {
    Rule r;
    r.name = std::move(name);
    r.key = {KeyPart::Login};
    r.windows = {{30, 1min}, {500, 24h}};
    return r;
}

TEST(ValidateRules, AcceptsAGoodSet) {
    std::vector<Rule> rules = {good_rule(), good_rule("per_ip")};
    rules[1].key = {KeyPart::ClientIp};
    rules[1].overrides["newsletter"] = {{1000, 1min}};
    EXPECT_TRUE(validate_rules(rules).has_value());
}

TEST(ValidateRules, RejectsContradictionsNamingTheRule) {
    struct Case {
        const char* name;
        std::function<void(Rule&)> edit;
        const char* message;
    };
    const Case cases[] = {
        {"bad name", [](Rule& r) { r.name = "a:b"; }, "rule name \"a:b\""},
        {"empty name", [](Rule& r) { r.name = ""; }, "rule name \"\""},
        {"no key", [](Rule& r) { r.key.clear(); }, "no key"},
        {"repeated key part",
         [](Rule& r) {
             r.key = {KeyPart::Login, KeyPart::Login};
         },
         "key part login twice"},
        {"no windows", [](Rule& r) { r.windows.clear(); }, "has no window"},
        {"same period twice",
         [](Rule& r) {
             r.windows = {{30, 1min}, {40, 1min}};
         },
         "two windows of 1m"},
        {"unreachable window",
         [](Rule& r) {
             r.windows = {{30, 1min}, {20, 1h}};
         },
         "can never be reached"},
        {"zero limit",
         [](Rule& r) {
             r.windows = {{0, 1min}};
         },
         "out of range"},
        {"upper-case override",
         [](Rule& r) {
             r.overrides["Alice"] = {{5, 1min}};
         },
         "lower-case"},
        {"bad override", [](Rule& r) { r.overrides["bob"] = {}; }, "override for bob"},
    };
    for (const auto& c : cases) {
        std::vector<Rule> rules = {good_rule()};
        c.edit(rules[0]);
        auto ok = validate_rules(rules);
        ASSERT_FALSE(ok.has_value()) << c.name;
        EXPECT_EQ(ok.error().code, ErrorCode::Config) << c.name;
        EXPECT_THAT(ok.error().message, ::testing::HasSubstr(c.message)) << c.name;
    }
    std::vector<Rule> twice = {good_rule(), good_rule()};
    EXPECT_THAT(validate_rules(twice), HasError(ErrorCode::Config));
}

}  // namespace
}  // namespace mailwarden::ratelimit
