// author_test.cpp - From: author domain extraction (RFC 5322 §3.4, §3.6.2; RFC 9989 §5.3.1).
#include "message/author.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "support/matchers.hpp"

namespace mailwarden::message {
namespace {

using ::mailwarden::testing::HasError;
using ::mailwarden::testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

util::Result<std::string> domain_of(std::string_view value) {
    const std::vector<std::string_view> values{value};
    return author_domain(values);
}

std::string error_of(std::string_view value) {
    auto r = domain_of(value);
    return r ? "(ok: " + *r + ")" : r.error().message;
}

struct Case {
    const char* name;
    const char* value;
    const char* want;
};

TEST(AuthorDomain, AcceptsTheRfc5322Forms) {
    const Case cases[] = {
        {"addr-spec", "test@example.com", "example.com"},
        {"angle only", "<test@example.com>", "example.com"},
        {"display name", "Test User <test@sub2.example.biz>", "sub2.example.biz"},
        {"quoted name with comma", "\"Test, User\" <test@example.com>", "example.com"},
        {"quoted name with angle and at", "\"a@evil.example <x>\" <u@good.example>",
         "good.example"},
        {"encoded word glued to angle",
         "=?UTF-8?B?QmVkIEJhdGggJiBCZXlvbmQ=?=<BdBth&Byond@example.com>", "example.com"},
        {"encoded word with comma and parens", "=?utf-8?q?Smith,_John_(HR)?= <j@hr.example>",
         "hr.example"},
        {"comments everywhere", "(c1) Name (c2) <(c3) u (c4) @ (c5) example.org (c6)> (c7)",
         "example.org"},
        {"nested comment", "u@example.org (a (nested (deep)) comment)", "example.org"},
        {"comment with escaped paren", "u@example.org (an \\) escaped)", "example.org"},
        {"folded", "Name\r\n <u@example.org>", "example.org"},
        {"folded with tab", "\"Long Name\"\r\n\t<u@Example.ORG>", "example.org"},
        {"upper case domain", "U@EXAMPLE.COM", "example.com"},
        {"trailing dot", "u@example.com.", "example.com"},
        {"quoted local part", "\"john doe\"@example.com", "example.com"},
        {"quoted local part with at", "\"a@b\"@example.com", "example.com"},
        {"obs-phrase with dot", "John Q. Public <jqp@example.net>", "example.net"},
        {"obs-route", "<@relay.example,@other.example:u@example.net>", "example.net"},
        {"obs local part with spaces", "john . doe @ example . net", "example.net"},
        {"obs empty list members", ", u@example.net ,", "example.net"},
        {"utf-8 display name", "Jörg Müller <j@example.de>", "example.de"},
        {"same domain twice", "a@example.com, B <b@Example.com>", "example.com"},
        {"underscore label", "u@mail_1.example.com", "mail_1.example.com"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_THAT(domain_of(c.value), IsOkAndHolds(std::string(c.want)));
    }
}

TEST(AuthorDomain, RefusesWhatNamesNoSingleAuthorAndSaysWhy) {
    const Case cases[] = {
        {"name only", "\"Test User\"", "is a name without an address"},
        {"bare words", "Test User", "is a name without an address"},
        {"group", "undisclosed-recipients:;", "group syntax"},
        {"group with members", "Team: a@example.com, b@example.com;", "group syntax"},
        {"two domains", "spoof@example.org, test@example.com", "2 different domains"},
        {"empty", "", "names no mailbox"},
        {"only comment", " (nobody) ", "names no mailbox"},
        {"empty angle", "Name <>", "empty address <>"},
        {"unclosed angle", "Name <u@example.com", "'<' without '>'"},
        {"text after angle", "<u@example.com> trailing", "text after '>'"},
        {"unterminated quote", "\"Name <u@example.com>", "unterminated quoted string"},
        {"unterminated comment", "u@example.com (oops", "unterminated comment"},
        {"domain literal", "u@[192.0.2.1]", "address literal"},
        {"no domain", "u@", "empty domain"},
        {"empty local", "@example.com", "empty local part"},
        {"double dot domain", "u@example..com", "empty label"},
        {"space in domain", "u@exa mple.com", "space in it"},
        {"two at signs", "u@a@b.example", "'@' in its domain"},
        {"special in domain", "u@exa!mple.com", "contains '!'"},
        {"at in display name", "a@b <u@example.com>", "outside quotes"},
        {"control character", "u@exam\x01ple.com", "0x01"},
        {"long label",
         "u@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
         "longer than 63"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_THAT(domain_of(c.value), HasError(util::ErrorCode::InvalidInput));
        EXPECT_THAT(error_of(c.value), HasSubstr(c.want));
    }
}

TEST(AuthorDomain, NeedsExactlyOneFromField) {
    const std::vector<std::string_view> none;
    EXPECT_THAT(author_domain(none), HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(author_domain(none).error().message, HasSubstr("no From: header field"));

    const std::vector<std::string_view> two{"a@example.com", "a@example.com"};
    EXPECT_THAT(author_domain(two), HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(author_domain(two).error().message, HasSubstr("2 From: header fields"));
}

TEST(AuthorDomains, ListsEveryDistinctDomainInOrder) {
    const std::vector<std::string_view> values{
        "spoof@example.org, test@example.com, Other <o@EXAMPLE.org>"};
    EXPECT_THAT(author_domains(values),
                IsOkAndHolds(ElementsAre(std::string("example.org"), std::string("example.com"))));
    const std::vector<std::string_view> group{"g: a@example.org;"};
    EXPECT_THAT(author_domains(group), HasError(util::ErrorCode::InvalidInput));
}

TEST(AuthorAddress, GivesLocalAtDomainOfOneMailbox) {
    EXPECT_THAT(author_address("\"Ceo, Bank\" <CEO@Bank.Example>"),
                IsOkAndHolds(std::string("CEO@bank.example")));
    EXPECT_THAT(author_address("\"john doe\"@example.com"),
                IsOkAndHolds(std::string("\"john doe\"@example.com")));
    EXPECT_THAT(author_address("a@example.com, b@example.com"),
                HasError(util::ErrorCode::InvalidInput));
    EXPECT_THAT(author_address("Name Only"), HasError(util::ErrorCode::InvalidInput));
}

TEST(AuthorDomain, OneMegabyteValuesFinishQuicklyWithAnAnswer) {
    const auto start = std::chrono::steady_clock::now();
    // A 1 MB display name of words, then the address.
    std::string words;
    while (words.size() < 1024 * 1024) {
        words += "word ";
    }
    EXPECT_THAT(domain_of(words + "<u@example.com>"), IsOkAndHolds(std::string("example.com")));
    // 1 MB of nested comment openers: unterminated.
    EXPECT_THAT(error_of(std::string(1024 * 1024, '(')), HasSubstr("unterminated comment"));
    // 1 MB of encoded-word starts without an end.
    std::string starts;
    while (starts.size() < 1024 * 1024) {
        starts += "=?=?x";
    }
    EXPECT_THAT(domain_of(starts), HasError(util::ErrorCode::InvalidInput));
    // 1 MB of commas, one mailbox.
    EXPECT_THAT(domain_of(std::string(1024 * 1024, ',') + "u@example.com"),
                IsOkAndHolds(std::string("example.com")));
    // Error messages quote only a bounded excerpt.
    EXPECT_LT(error_of(std::string(1024 * 1024, 'x')).size(), 200u);
    // More than the bound is refused up front.
    EXPECT_THAT(error_of(std::string(3 * 1024 * 1024, 'a')), HasSubstr("bytes long"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace mailwarden::message
