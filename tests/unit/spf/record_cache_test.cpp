// record_cache_test.cpp - the per-process cache of fetched SPF records: TTL and bounds.
#include "auth/spf/record_cache.hpp"

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"

namespace mailwarden::auth::spf {
namespace {

FetchedRecord found(const char* text) {
    FetchedRecord f;
    f.kind = FetchedRecord::Kind::Found;
    f.record = std::make_shared<const Record>(*parse_record(text));
    f.text = text;
    return f;
}

TEST(RecordCache, EntriesExpireWithTheirCappedTtl) {
    testing::FakeClock clock;
    RecordCache cache(clock, 10, std::chrono::seconds(100));
    cache.store("a.example", found("v=spf1 -all"), std::chrono::seconds(30));
    cache.store("b.example", found("v=spf1 +all"), std::chrono::seconds(86400));
    cache.store("zero.example", found("v=spf1 ?all"), std::chrono::seconds(0));
    ASSERT_TRUE(cache.find("a.example").has_value());
    EXPECT_EQ(cache.find("a.example")->record->mechanisms.at(0).qualifier, Qualifier::Fail);
    EXPECT_FALSE(cache.find("zero.example").has_value());
    clock.advance(std::chrono::seconds(31));
    EXPECT_FALSE(cache.find("a.example").has_value());
    EXPECT_TRUE(cache.find("b.example").has_value());
    clock.advance(std::chrono::seconds(70));  // b's TTL was capped at 100 s
    EXPECT_FALSE(cache.find("b.example").has_value());
}

TEST(RecordCache, NeverHoldsMoreThanMaxEntries) {
    testing::FakeClock clock;
    RecordCache cache(clock, 50);
    for (int i = 0; i < 1000; ++i) {
        cache.store("d" + std::to_string(i) + ".example", found("v=spf1 -all"),
                    std::chrono::seconds(60));
        ASSERT_LE(cache.size(), 50u);
    }
    EXPECT_TRUE(cache.find("d999.example").has_value());  // the newest entry is kept
    cache.clear();
    EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace mailwarden::auth::spf
