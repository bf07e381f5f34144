// auth_results_check_test.cpp - one Authentication-Results header per message, forged
// fields claiming our authserv-id removed by their per-name index.
#include "policy/checks/auth_results_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mailwarden::policy {
namespace {

using ::testing::HasSubstr;

Transaction checked_message() {
    Transaction t;
    t.message.headers = {
        {"Authentication-Results", " mx.example.org; dkim=pass header.d=bank.example"},
        {"Received", " from a by b"},
        {"Authentication-Results", " other.example; spf=fail"},
        {"authentication-results", " MX.Example.Org (forged); dmarc=pass"},
        {"From", " a@bank.example"},
    };
    auth::spf::Outcome spf;
    spf.result = auth::spf::Result::Pass;
    spf.domain = "bank.example";
    spf.sender = "a@bank.example";
    t.message.spf = spf;
    t.message.dkim_evaluated = true;
    return t;
}

TEST(AuthResultsCheck, RemovesForgedFieldsByIndexAndInsertsOursAtTheTop) {
    AuthResultsCheck check({"mx.example.org", true});
    const auto edits = check.edits(checked_message());
    ASSERT_EQ(edits.size(), 3u);
    EXPECT_EQ(edits[0].kind, HeaderEdit::Kind::Remove);
    EXPECT_EQ(edits[0].index, 1);
    EXPECT_EQ(edits[1].kind, HeaderEdit::Kind::Remove);
    EXPECT_EQ(edits[1].index, 3) << "the third field of that name, whatever its letter case";
    EXPECT_EQ(edits[2].kind, HeaderEdit::Kind::Insert);
    EXPECT_EQ(edits[2].index, 0);
    EXPECT_EQ(edits[2].name, "Authentication-Results");
    EXPECT_THAT(edits[2].value, ::testing::StartsWith("mx.example.org;"));
    EXPECT_THAT(edits[2].value, HasSubstr("spf=pass"));
    EXPECT_THAT(edits[2].value, HasSubstr("dkim=none"));
}

TEST(AuthResultsCheck, KeepsForeignFieldsWhenRemovalIsOff) {
    AuthResultsCheck check({"mx.example.org", false});
    const auto edits = check.edits(checked_message());
    ASSERT_EQ(edits.size(), 1u);
    EXPECT_EQ(edits[0].kind, HeaderEdit::Kind::Insert);
}

TEST(AuthResultsCheck, WritesNothingWhenNoAuthenticationCheckRanButStillRemovesForgeries) {
    AuthResultsCheck check({"mx.example.org", true});
    Transaction t = checked_message();
    t.message.spf.reset();
    t.message.dkim_evaluated = false;
    const auto edits = check.edits(t);
    ASSERT_EQ(edits.size(), 2u);
    EXPECT_EQ(edits[0].kind, HeaderEdit::Kind::Remove);
    EXPECT_EQ(edits[1].kind, HeaderEdit::Kind::Remove);
}

}  // namespace
}  // namespace mailwarden::policy
