// store_test.cpp - the shared helpers counter_key() and matches().
#include "store/store.hpp"

#include <gtest/gtest.h>

namespace mailwarden::store {
namespace {

util::SystemTime at_s(std::int64_t s) {
    return util::SystemTime{std::chrono::seconds{s}};
}

TEST(CounterKey, PrefersEnhancedThenBasicCodeThenAction) {
    Event e;
    e.action = "quarantine";
    EXPECT_EQ(counter_key(e), "quarantine");
    e.reply_code = 451;
    EXPECT_EQ(counter_key(e), "451");
    e.enhanced_code = "4.7.1";
    EXPECT_EQ(counter_key(e), "4.7.1");
}

TEST(Matches, AppliesEveryFilter) {
    Event e;
    e.time = at_s(1000);
    e.sender = "Alice@Example.org";
    e.login = "alice";
    e.queue_id = "ABC123";
    e.reply_code = 550;
    e.enhanced_code = "5.7.1";
    struct Case {
        const char* name;
        EventQuery query;
        bool want;
    };
    const auto q = [](auto&& set) {
        EventQuery query;
        set(query);
        return query;
    };
    const Case cases[] = {
        {"empty query", {}, true},
        {"sender any case", q([](auto& x) { x.sender = "alice@EXAMPLE.org"; }), true},
        {"other sender", q([](auto& x) { x.sender = "bob@example.org"; }), false},
        {"sender prefix is not enough", q([](auto& x) { x.sender = "alice@"; }), false},
        {"login exact", q([](auto& x) { x.login = "alice"; }), true},
        {"login is case-sensitive", q([](auto& x) { x.login = "Alice"; }), false},
        {"queue id", q([](auto& x) { x.queue_id = "ABC123"; }), true},
        {"other queue id", q([](auto& x) { x.queue_id = "ABC12"; }), false},
        {"basic code", q([](auto& x) { x.code = "550"; }), true},
        {"basic class", q([](auto& x) { x.code = "5"; }), true},
        {"enhanced prefix", q([](auto& x) { x.code = "5.7"; }), true},
        {"both", q([](auto& x) { x.code = "550 5.7.1"; }), true},
        {"other code", q([](auto& x) { x.code = "4"; }), false},
        {"other enhanced", q([](auto& x) { x.code = "5.1"; }), false},
        {"since inclusive", q([](auto& x) { x.since = at_s(1000); }), true},
        {"since after", q([](auto& x) { x.since = at_s(1001); }), false},
        {"until inclusive", q([](auto& x) { x.until = at_s(1000); }), true},
        {"until before", q([](auto& x) { x.until = at_s(999); }), false},
        {"all at once", q([](auto& x) {
             x.sender = "alice@example.org";
             x.login = "alice";
             x.code = "5.7.1";
             x.since = at_s(0);
             x.until = at_s(2000);
         }),
         true},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(matches(e, c.query), c.want);
    }
}

}  // namespace
}  // namespace mailwarden::store
