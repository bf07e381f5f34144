// catalog_test.cpp - the shipped catalog's integrity and the classifier's behaviour.
//
// Coverage: every code of the IANA enhanced status registry (tests/data/explain/) and every
// RFC 5321 reply code has an entry; every pattern's examples classify to that very entry;
// code entries agree with their class; the classification order is the documented one.
#include "explain/catalog.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/matchers.hpp"
#include "support/paths.hpp"
#include "util/ascii.hpp"

namespace mailwarden::explain {
namespace {

using ::mailwarden::testing::IsOk;

const Catalog& shipped() {
    static const Catalog catalog = [] {
        auto loaded = Catalog::load_file(testing::source_dir() / "conf" / "explanations.yaml");
        if (!loaded) {
            ADD_FAILURE() << loaded.error().describe();
            return Catalog();
        }
        return std::move(*loaded);
    }();
    return catalog;
}

TEST(Catalog, ShippedCatalogLoads) {
    auto loaded = Catalog::load_file(testing::source_dir() / "conf" / "explanations.yaml");
    ASSERT_THAT(loaded, IsOk());
    EXPECT_GT(loaded->entries().size(), 150u);
}

TEST(Catalog, CoversEveryIanaEnhancedStatusCode) {
    std::ifstream in(testing::source_dir() / "tests" / "data" / "explain" /
                     "iana_enhanced_status_codes.tsv");
    ASSERT_TRUE(in) << "registry file missing";
    std::string line;
    int codes = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#' || line.starts_with("code\t")) {
            continue;
        }
        const std::string code = line.substr(0, line.find('\t'));
        SCOPED_TRACE(code);
        ASSERT_TRUE(code.starts_with("X.")) << line;
        for (const char klass : {'2', '4', '5'}) {
            const auto status = smtp::parse_enhanced_status(std::string(1, klass) + code.substr(1));
            ASSERT_TRUE(status.has_value()) << code;
            const Entry* entry = shipped().find_status(*status);
            EXPECT_NE(entry, nullptr) << "no catalog entry for " << status->to_string();
        }
        ++codes;
    }
    EXPECT_GE(codes, 80);
}

TEST(Catalog, CoversEveryRfc5321ReplyCode) {
    // RFC 5321 §4.2.2-4.2.3, RFC 4954 §6 (AUTH), RFC 7504 (521, 556).
    const int codes[] = {211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452,
                         455, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554, 555,
                         521, 556, 235, 334, 432, 454, 530, 534, 535, 538};
    for (const int code : codes) {
        EXPECT_NE(shipped().find_reply(code), nullptr) << code;
    }
}

TEST(Catalog, EveryExampleClassifiesToItsOwnEntry) {
    int examples = 0;
    for (const Entry& entry : shipped().entries()) {
        for (const std::string& example : entry.examples) {
            SCOPED_TRACE(entry.id + ": " + example);
            // A provider's entry is tried only on refusals by that provider.
            Context context;
            if (!entry.hosts.empty()) {
                context.remote_host = "mx." + entry.hosts.front();
            }
            const Match match = shipped().classify(example, context);
            EXPECT_EQ(match.entry_id, entry.id);
            EXPECT_EQ(match.source, MatchSource::Pattern);
            ++examples;
        }
    }
    EXPECT_GT(examples, 100);
}

TEST(Catalog, EveryPatternHasAnExampleItMatches) {
    // The loader refuses a catalog where it does not hold; count to show it is exercised.
    std::size_t patterns = 0;
    for (const Entry& entry : shipped().entries()) {
        patterns += entry.patterns.size();
        if (!entry.patterns.empty()) {
            EXPECT_GE(entry.examples.size(), 1u) << entry.id;
        }
    }
    EXPECT_GT(patterns, 300u);
}

TEST(Catalog, CodeEntriesAgreeWithTheirClass) {
    for (const Entry& entry : shipped().entries()) {
        if (entry.status.empty() || entry.status[0] == 'x') {
            continue;
        }
        SCOPED_TRACE(entry.id);
        const bool success = entry.category == Category::Delivered;
        EXPECT_EQ(entry.status[0] == '2', success);
    }
    for (const Entry& entry : shipped().entries()) {
        if (!entry.reply_code) {
            continue;
        }
        SCOPED_TRACE(entry.id);
        const bool failure = *entry.reply_code >= 400;
        EXPECT_EQ(entry.category == Category::Delivered, *entry.reply_code < 300);
        if (failure) {
            EXPECT_NE(entry.category, Category::Delivered);
        }
    }
}

TEST(Catalog, EveryEntryHasAllThreeTexts) {
    for (const Entry& entry : shipped().entries()) {
        SCOPED_TRACE(entry.id);
        EXPECT_FALSE(entry.texts.summary.empty());
        EXPECT_FALSE(entry.texts.sender.empty());
        EXPECT_FALSE(entry.texts.admin.empty());
    }
}

struct ClassifyCase {
    const char* name;
    const char* diagnostic;
    Category category;
    MatchSource source;
    const char* status;
    bool permanent;
};

const ClassifyCase kClassifyCases[] = {
    {"status code alone", "550 5.1.1 ok", Category::UserUnknown, MatchSource::EnhancedStatus,
     "5.1.1", true},
    {"text beats a specific status", "550 5.1.1 Mailbox full", Category::MailboxFull,
     MatchSource::Pattern, "5.1.1", true},
    {"specific status beats a weak pattern", "550 5.1.7 No such domain example.net",
     Category::Rejected, MatchSource::EnhancedStatus, "5.1.7", true},
    {"weak pattern beats a generic status", "550 5.0.0 No such domain", Category::HostUnknown,
     MatchSource::Pattern, "5.0.0", true},
    {"unregistered detail falls back to the subject", "550 5.7.99 computer says no",
     Category::SecurityError, MatchSource::EnhancedStatus, "5.7.99", true},
    {"reply code alone, derived status", "552 nope", Category::MailboxFull, MatchSource::ReplyCode,
     "5.0.922", true},
    {"transient reply code", "452 try later", Category::SystemFull, MatchSource::ReplyCode,
     "4.0.931", false},
    {"nonsense codes are undefined", "999 9.9.9 what", Category::Undefined, MatchSource::Fallback,
     "5.0.900", true},
    {"text without codes gets a derived status", "User unknown", Category::UserUnknown,
     MatchSource::Pattern, "5.0.911", true},
    {"gmail multi-line authentication failure",
     "550-5.7.26 This mail has been blocked because the sender is\n550-5.7.26 unauthenticated. "
     "Gmail requires all senders to authenticate with\n550 5.7.26 either SPF or DKIM.",
     Category::AuthFailure, MatchSource::Pattern, "5.7.26", true},
    {"contradictory classes: the basic code decides permanence", "450 5.2.2 mailbox full",
     Category::MailboxFull, MatchSource::Pattern, "5.2.2", false},
};

TEST(Catalog, ClassifiesInTheDocumentedOrder) {
    for (const ClassifyCase& c : kClassifyCases) {
        SCOPED_TRACE(c.name);
        const Match match = shipped().classify(c.diagnostic);
        EXPECT_EQ(to_string(match.category), to_string(c.category));
        EXPECT_EQ(to_string(match.source), to_string(c.source));
        EXPECT_EQ(match.status, c.status);
        EXPECT_EQ(match.permanent, c.permanent);
        EXPECT_FALSE(match.summary.empty());
        EXPECT_FALSE(match.user_text.empty());
        EXPECT_FALSE(match.admin_text.empty());
        EXPECT_EQ(match.user_text.find('{'), std::string::npos) << match.user_text;
    }
}

TEST(Catalog, FillsPlaceholdersFromContextAndCaptures) {
    Context context;
    context.recipient = "bob@example.org";
    context.sender = "alice@example.com";
    const Match unknown = shipped().classify("550 5.1.1 <bob@example.org>: User unknown", context);
    EXPECT_THAT(unknown.summary, ::testing::HasSubstr("bob@example.org"));
    EXPECT_THAT(unknown.user_text, ::testing::HasSubstr("example.org"));

    const Match listed = shipped().classify(
        "host mx.example.org[198.51.100.3] said: 554 5.7.1 Service unavailable; Client host "
        "[192.0.2.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7",
        context);
    EXPECT_EQ(listed.entry_id, "blocklist-spamhaus");
    EXPECT_EQ(listed.values.at("list_name"), "zen.spamhaus.org");
    EXPECT_EQ(listed.values.at("listed_ip"), "192.0.2.7");
    EXPECT_EQ(listed.remote_host, "mx.example.org");
    EXPECT_THAT(listed.admin_text, ::testing::HasSubstr("192.0.2.7"));
    EXPECT_THAT(listed.admin_text, ::testing::HasSubstr("zen.spamhaus.org"));
}

TEST(Placeholders, FillKnownNamesAndUseNeutralWordsForMissingValues) {
    const std::map<std::string, std::string, std::less<>> values{{"recipient", "bob@example.org"},
                                                                 {"remote_host", ""}};
    EXPECT_EQ(fill_placeholders("To {recipient} via {remote_host}.", values),
              "To bob@example.org via the receiving server.");
    EXPECT_EQ(fill_placeholders("{{literal}} {unknown}", values), "{literal} {unknown}");
    EXPECT_EQ(fill_placeholders("{remote_host} said no. {remote_host} again.", values),
              "The receiving server said no. The receiving server again.");
    EXPECT_EQ(fill_placeholders("unclosed {recipient", values), "unclosed {recipient");
    EXPECT_TRUE(is_known_placeholder("listed_ip"));
    EXPECT_FALSE(is_known_placeholder("password"));
}

TEST(Category, NamesRoundTripAndIncludeSisimaiReasons) {
    for (const Category category : all_categories()) {
        EXPECT_EQ(parse_category(to_string(category)), category);
    }
    for (const char* reason :
         {"userunknown",     "mailboxfull",    "hostunknown",     "blocked",      "spamdetected",
          "policyviolation", "securityerror",  "authfailure",     "expired",      "mesgtoobig",
          "exceedlimit",     "norelaying",     "speeding",        "toomanyconn",  "rejected",
          "suspend",         "systemerror",    "systemfull",      "networkerror", "contenterror",
          "virusdetected",   "hasmoved",       "filtered",        "notaccept",    "syntaxerror",
          "requireptr",      "badreputation",  "notcompliantrfc", "mailererror",  "onhold",
          "undefined",       "failedstarttls", "feedback",        "vacation",     "delivered"}) {
        EXPECT_TRUE(parse_category(reason).has_value()) << reason;
    }
    EXPECT_FALSE(parse_category("nonsense").has_value());
    EXPECT_EQ(derived_status(Category::Filtered, true), "5.0.910");
    EXPECT_EQ(derived_status(Category::Expired, false), "4.0.947");
}

}  // namespace
}  // namespace mailwarden::explain
