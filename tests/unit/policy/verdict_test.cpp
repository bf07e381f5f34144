#include "policy/verdict.hpp"

#include <gtest/gtest.h>

namespace mailwarden::policy {
namespace {

Decision decision(const char* check, Action action, std::vector<std::string> lines = {},
                  int code = 0, const char* enhanced = "") {
    Decision d;
    d.check = check;
    d.action = action;
    if (code != 0) {
        d.reply = smtp::Reply{code, enhanced, std::move(lines)};
    }
    return d;
}

TEST(Compose, MostSevereActionWins) {
    struct Case {
        const char* name;
        std::vector<Action> actions;
        Action want;
    };
    const Case cases[] = {
        {"nothing", {}, Action::Continue},
        {"all continue", {Action::Continue, Action::Continue}, Action::Continue},
        {"accept beats continue", {Action::Continue, Action::Accept}, Action::Accept},
        {"quarantine beats accept", {Action::Accept, Action::Quarantine}, Action::Quarantine},
        {"tempfail beats discard", {Action::Tempfail, Action::Discard}, Action::Tempfail},
        {"reject beats everything",
         {Action::Tempfail, Action::Reject, Action::Quarantine},
         Action::Reject},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        std::vector<Decision> ds;
        for (auto a : c.actions) {
            ds.push_back(decision("x", a));
        }
        EXPECT_EQ(compose(ds).action, c.want);
    }
}

TEST(Compose, FirstAtTheWinningSeverityGivesTheReplyOthersAddLines) {
    const std::vector<Decision> ds = {
        decision("a", Action::Tempfail, {"later"}, 451, "4.7.1"),
        decision("b", Action::Reject, {"first reason", "shared"}, 550, "5.7.1"),
        decision("c", Action::Reject, {"shared", "second reason"}, 554, "5.7.26"),
    };
    const Verdict v = compose(ds);
    EXPECT_EQ(v.action, Action::Reject);
    EXPECT_EQ(v.deciding_check, "b");
    ASSERT_TRUE(v.reply.has_value());
    EXPECT_EQ(v.reply->code, 550);
    EXPECT_EQ(v.reply->enhanced, "5.7.1");
    EXPECT_EQ(v.reply->lines,
              (std::vector<std::string>{"first reason", "shared", "second reason"}));
    EXPECT_EQ(v.decisions.size(), 3u);
}

TEST(Compose, RefusalWithoutReplyGetsTheDefault) {
    const Verdict v = compose(std::vector{decision("a", Action::Tempfail)});
    ASSERT_TRUE(v.reply.has_value());
    EXPECT_EQ(v.reply->code, 451);
    EXPECT_EQ(v.reply->enhanced, "4.7.1");
}

TEST(Compose, WarnOnlyIsRecordedButDoesNotAct) {
    Decision warn = decision("a", Action::Reject, {"would reject"}, 550, "5.7.1");
    warn.warn_only = true;
    const Verdict v = compose(std::vector{warn, decision("b", Action::Continue)});
    EXPECT_EQ(v.action, Action::Continue);
    EXPECT_FALSE(v.reply.has_value());
    ASSERT_EQ(v.decisions.size(), 1u);
    EXPECT_TRUE(v.decisions[0].warn_only);
}

TEST(Compose, HeaderEditsOfEveryDecisionAreKept) {
    Decision a = decision("a", Action::Continue);
    a.headers.push_back({HeaderEdit::Kind::Add, "X-A", "1", 0});
    Decision b = decision("b", Action::Quarantine);
    b.headers.push_back({HeaderEdit::Kind::Insert, "X-B", "2", 0});
    const Verdict v = compose(std::vector{a, b});
    EXPECT_EQ(v.action, Action::Quarantine);
    ASSERT_EQ(v.headers.size(), 2u);
    EXPECT_EQ(v.headers[0].name, "X-A");
    EXPECT_EQ(v.headers[1].name, "X-B");
}

TEST(Compose, ReplyLinesAreBounded) {
    std::vector<Decision> ds;
    for (int i = 0; i < 40; ++i) {
        ds.push_back(decision("c", Action::Reject, {"line " + std::to_string(i)}, 550, "5.7.1"));
    }
    EXPECT_EQ(compose(ds).reply->lines.size(), smtp::kMaxReplyLines);
}

}  // namespace
}  // namespace mailwarden::policy
