// catalog_loader_test.cpp - Catalog::load_string validation: each error names its line.
//
// Every case is a small inline catalog (all categories with one-line texts, then the entries
// under test); bad ones must fail with ErrorCode::Config at the right line and column.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "explain/catalog.hpp"
#include "support/matchers.hpp"

namespace mailwarden::explain {
namespace {

using ::mailwarden::testing::HasError;
using ::mailwarden::testing::IsOk;
using ::testing::HasSubstr;

// "version" + "categories" with every category: 2 + 4 * categories lines, then "entries:".
std::string header() {
    std::string yaml = "version: 1\ncategories:\n";
    for (const Category category : all_categories()) {
        yaml += "  " + std::string(to_string(category)) + ":\n";
        yaml += "    summary: \"Summary for {recipient}\"\n    sender: \"u\"\n    admin: \"a\"\n";
    }
    yaml += "entries:\n";
    return yaml;
}

int header_lines() {
    return 3 + 4 * static_cast<int>(all_categories().size());
}

TEST(CatalogLoader, LoadsAMinimalCatalog) {
    const std::string yaml = header() +
                             "  - id: nouser\n"
                             "    category: userunknown\n"
                             "    match: 'no such user'\n"
                             "    examples: ['550 no such user']\n"
                             "  - id: code\n"
                             "    status: x.1.1\n"
                             "    category: userunknown\n";
    auto catalog = Catalog::load_string(yaml, "mini.yaml");
    ASSERT_THAT(catalog, IsOk());
    Context context;
    context.recipient = "bob@example.org";
    const Match match = catalog->classify("550 No Such User here", context);
    EXPECT_EQ(match.entry_id, "nouser");
    EXPECT_EQ(match.summary, "Summary for bob@example.org");
    EXPECT_EQ(catalog->classify("550 5.1.1 whatever").entry_id, "code");
}

TEST(CatalogLoader, HostsLimitAnEntryToOneProvidersRefusals) {
    const std::string yaml = header() +
                             "  - id: provider\n"
                             "    category: filtered\n"
                             "    hosts: [Provider.example]\n"
                             "    match: 'user unknown'\n"
                             "    examples: ['550 user unknown']\n"
                             "  - id: everyone\n"
                             "    category: userunknown\n"
                             "    match: 'user unknown'\n"
                             "    examples: ['550 user unknown']\n";
    auto catalog = Catalog::load_string(yaml, "hosts.yaml");
    ASSERT_THAT(catalog, IsOk());
    Context by_remote;
    by_remote.remote_host = "mx1.provider.example.";
    EXPECT_EQ(catalog->classify("550 User unknown", by_remote).entry_id, "provider");
    Context by_recipient;
    by_recipient.recipient = "bob@provider.example";
    EXPECT_EQ(catalog->classify("550 User unknown", by_recipient).entry_id, "provider");
    Context elsewhere;
    elsewhere.recipient = "bob@notprovider.example";
    elsewhere.remote_host = "mx.other.example";
    EXPECT_EQ(catalog->classify("550 User unknown", elsewhere).entry_id, "everyone");
    // The wrapper's host counts too ("host mx.provider.example[192.0.2.1] said:").
    EXPECT_EQ(
        catalog->classify("host mx.provider.example[192.0.2.1] said: 550 User unknown").entry_id,
        "provider");
}

struct BadCase {
    const char* name;
    std::string entries;
    int line;    // relative to the first entry line (1 = "  - id: ...")
    int column;  // 0 = not checked
    const char* message;
};

const BadCase kBadCases[] = {
    {"bad regex",
     "  - id: broken\n    category: blocked\n    match:\n      - 'unclosed (group'\n"
     "    examples: ['x']\n",
     4, 9, "bad regular expression"},
    {"unknown category", "  - id: what\n    category: sadness\n    status: x.1.1\n", 2, 15,
     "unknown category 'sadness'"},
    {"unknown key", "  - id: typo\n    category: blocked\n    status: x.1.1\n    sumary: oops\n", 4,
     5, "unknown key 'sumary'"},
    {"unknown placeholder",
     "  - id: ph\n    category: blocked\n    status: x.7.1\n    summary: \"hi {password}\"\n", 1, 5,
     "unknown placeholder {password}"},
    {"duplicate id",
     "  - id: a\n    category: blocked\n    status: x.7.1\n  - id: a\n    category: blocked\n"
     "    reply: 554\n",
     4, 5, "duplicate id 'a'"},
    {"two entries for one code",
     "  - id: a\n    category: blocked\n    status: x.7.1\n  - id: b\n    category: blocked\n"
     "    status: X.7.1\n",
     4, 5, "already has an entry"},
    {"no key", "  - id: lonely\n    category: blocked\n", 1, 5, "exactly one of"},
    {"pattern without examples", "  - id: p\n    category: blocked\n    match: 'x'\n", 1, 5,
     "no examples"},
    {"example its pattern does not match",
     "  - id: p\n    category: blocked\n    match: 'spamhaus'\n    examples: ['550 hello']\n", 1, 5,
     "matches none of its patterns"},
    {"pattern without an example it matches",
     "  - id: p\n    category: blocked\n    match: ['spamhaus', 'spamcop']\n"
     "    examples: ['550 listed by spamhaus']\n",
     1, 5, "pattern /spamcop/ has no example"},
    {"not a status code", "  - id: s\n    category: blocked\n    status: 9.9.9\n", 1, 5,
     "not an enhanced status code"},
    {"not a reply code", "  - id: r\n    category: blocked\n    reply: 999\n", 1, 5,
     "not a reply code"},
    {"entry without id", "  - category: blocked\n    reply: 554\n", 1, 5, "without an id"},
    {"yaml syntax error", "  - id: x\n    category: [blocked\n", 3, 0, ""},
    {"not a domain in hosts",
     "  - id: h\n    category: blocked\n    hosts: ['mx example.org']\n    match: 'x'\n"
     "    examples: ['550 x']\n",
     3, 12, "'mx example.org' is not a domain name"},
};

TEST(CatalogLoader, ErrorsNameFileLineAndColumn) {
    for (const BadCase& c : kBadCases) {
        SCOPED_TRACE(c.name);
        const auto catalog = Catalog::load_string(header() + c.entries, "bad.yaml");
        ASSERT_THAT(catalog, HasError(util::ErrorCode::Config));
        const util::Error& error = catalog.error();
        ASSERT_TRUE(error.where.has_value()) << error.describe();
        EXPECT_EQ(error.where->file, "bad.yaml");
        EXPECT_EQ(error.where->line, header_lines() + c.line) << error.describe();
        if (c.column != 0) {
            EXPECT_EQ(error.where->column, c.column) << error.describe();
        }
        EXPECT_THAT(error.message, HasSubstr(c.message));
    }
}

TEST(CatalogLoader, MissingCategoryTextIsAnError) {
    std::string yaml = header();
    const std::string needle =
        "  vacation:\n    summary: \"Summary for {recipient}\"\n    sender: \"u\"\n";
    const std::size_t at = yaml.find(needle);
    ASSERT_NE(at, std::string::npos);
    yaml.erase(at + needle.size(), std::string("    admin: \"a\"\n").size());
    const auto catalog = Catalog::load_string(yaml, "bad.yaml");
    ASSERT_THAT(catalog, HasError(util::ErrorCode::Config));
    EXPECT_THAT(catalog.error().message, HasSubstr("category 'vacation' needs summary"));
    EXPECT_GT(catalog.error().where->line, 2);
}

TEST(CatalogLoader, UnreadableFileIsNotFound) {
    EXPECT_THAT(Catalog::load_file("/nonexistent/explanations.yaml"),
                HasError(util::ErrorCode::NotFound));
}

TEST(CatalogLoader, WrongVersionIsAnError) {
    EXPECT_THAT(Catalog::load_string("version: 2\ncategories: {}\nentries: []\n"),
                HasError(util::ErrorCode::Config));
}

}  // namespace
}  // namespace mailwarden::explain
