// memory_store_test.cpp - MemoryStore: the Store contract, plus its own bounds (the event
// ring and the retention of hour counters).
#include "store/memory_store.hpp"

#include <gtest/gtest.h>

#include "unit/store/store_contract.hpp"

namespace mailwarden::store {
namespace {

using contract::base_time;
using contract::sample_event;
using mailwarden::testing::FakeClock;
using mailwarden::testing::IsOk;
using mailwarden::testing::IsOkAndHolds;

struct MemoryBackend {
    static std::optional<std::string> skip_reason() { return std::nullopt; }
    static void set_up_suite() {}
    static void tear_down_suite() {}
    std::shared_ptr<Store> make(std::shared_ptr<const util::Clock> clock) {
        MemoryStoreOptions options;
        options.clock = std::move(clock);
        return std::make_shared<MemoryStore>(options);
    }
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, StoreContract, MemoryBackend);
}

namespace {

TEST(MemoryStore, KeepsOnlyTheNewestEventsButCountsAll) {
    auto clock = std::make_shared<FakeClock>(base_time());
    MemoryStore store(
        {.event_capacity = 3, .counter_retention = std::chrono::hours{24}, .clock = clock});
    std::vector<Event> in;
    for (int i = 0; i < 5; ++i) {
        in.push_back(sample_event(i));
    }
    ASSERT_THAT(store.append_events(in), IsOk());
    EXPECT_EQ(store.size(), 3u);
    auto out = store.query_events({});
    ASSERT_THAT(out, IsOk());
    EXPECT_EQ(contract::queue_ids(*out), (std::vector<std::string>{"Q4", "Q3", "Q2"}));
    EXPECT_THAT(store.code_counts(base_time()), IsOkAndHolds(CodeCounts{{"5.7.1", 5}}));
}

TEST(MemoryStore, DropsHourCountersOlderThanTheRetention) {
    auto clock = std::make_shared<FakeClock>(base_time());
    MemoryStore store(
        {.event_capacity = 10, .counter_retention = std::chrono::hours{35 * 24}, .clock = clock});
    ASSERT_THAT(store.append_events(std::vector<Event>{sample_event(1)}), IsOk());
    clock->advance(std::chrono::hours{34 * 24});
    EXPECT_THAT(store.code_counts(base_time()), IsOkAndHolds(CodeCounts{{"5.7.1", 1}}));
    clock->advance(std::chrono::hours{24 + 1});
    EXPECT_THAT(store.code_counts(base_time()), IsOkAndHolds(CodeCounts{}));
}

TEST(MemoryStore, BoundsHourBucketsEvenForFutureTimes) {
    auto clock = std::make_shared<FakeClock>(base_time());
    MemoryStore store(
        {.event_capacity = 10, .counter_retention = std::chrono::hours{2}, .clock = clock});
    std::vector<Event> in;
    for (int h = 0; h < 100; ++h) {
        Event e = sample_event(h);
        e.time = base_time() + std::chrono::hours{h};
        in.push_back(e);
    }
    ASSERT_THAT(store.append_events(in), IsOk());
    int kept = 0;
    for (int h = 0; h < 100; ++h) {
        auto counts = store.code_counts(base_time() + std::chrono::hours{h});
        ASSERT_THAT(counts, IsOk());
        kept += counts->empty() ? 0 : 1;
    }
    EXPECT_LE(kept, 2 + 24);
    // the newest hours are the ones kept
    EXPECT_THAT(store.code_counts(base_time() + std::chrono::hours{99}),
                IsOkAndHolds(CodeCounts{{"5.7.1", 1}}));
}

TEST(MemoryStore, IdsIncreaseLikeStreamIds) {
    auto clock = std::make_shared<FakeClock>(base_time());
    MemoryStore store(
        {.event_capacity = 10, .counter_retention = std::chrono::hours{1}, .clock = clock});
    ASSERT_THAT(store.append_events(std::vector<Event>{sample_event(1), sample_event(2)}), IsOk());
    clock->advance(std::chrono::milliseconds{5});
    ASSERT_THAT(store.append_events(std::vector<Event>{sample_event(3)}), IsOk());
    auto out = store.query_events({});
    ASSERT_THAT(out, IsOk());
    ASSERT_EQ(out->size(), 3u);
    EXPECT_EQ((*out)[2].id, "1767225600000-0");
    EXPECT_EQ((*out)[1].id, "1767225600000-1");
    EXPECT_EQ((*out)[0].id, "1767225600005-0");
}

}  // namespace
}  // namespace mailwarden::store
