// event_recorder_test.cpp - EventRecorder against a fake Store that can fail or stall:
// batching, journaling while the store is down, ordered replay, overflow, start-up replay.
#include "store/event_recorder.hpp"

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "support/matchers.hpp"
#include "support/temp_dir.hpp"
#include "unit/store/store_contract.hpp"

namespace mailwarden::store {
namespace {

using contract::queue_ids;
using contract::sample_event;
using mailwarden::testing::TempDir;
using namespace std::chrono_literals;

// A Store that keeps appended events, fails while `down` is set and blocks appends while
// `stalled` is set.
class FakeStore final : public Store {
  public:
    std::string_view kind() const override { return "fake"; }
    util::Result<void> ping() override { return {}; }
    util::Result<void> append_events(std::span<const Event> events) override {
        std::unique_lock lock(mutex_);
        ++calls_;
        stall_cv_.wait_for(lock, 10s, [&] { return !stalled_; });
        if (down_) {
            return util::fail(util::ErrorCode::Unavailable, "fake store is down");
        }
        batches_.push_back(events.size());
        events_.insert(events_.end(), events.begin(), events.end());
        return {};
    }
    util::Result<std::vector<Event>> query_events(const EventQuery&) override { return events(); }
    util::Result<CodeCounts> code_counts(util::SystemTime) override { return CodeCounts{}; }

    void set_down(bool down) {
        std::lock_guard lock(mutex_);
        down_ = down;
    }
    void set_stalled(bool stalled) {
        {
            std::lock_guard lock(mutex_);
            stalled_ = stalled;
        }
        stall_cv_.notify_all();
    }
    std::vector<Event> events() const {
        std::lock_guard lock(mutex_);
        return events_;
    }
    std::vector<std::size_t> batches() const {
        std::lock_guard lock(mutex_);
        return batches_;
    }
    int calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable stall_cv_;
    bool down_ = false;
    bool stalled_ = false;
    int calls_ = 0;
    std::vector<Event> events_;
    std::vector<std::size_t> batches_;
};

std::vector<std::string> range_ids(int from, int to) {
    std::vector<std::string> ids;
    for (int i = from; i < to; ++i) {
        ids.push_back("Q" + std::to_string(i));
    }
    return ids;
}

// Waits (bounded) until `done` holds.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(5ms);
    }
    return done();
}

class EventRecorderTest : public ::testing::Test {
  protected:
    RecorderOptions options(std::size_t batch = 4) {
        RecorderOptions o;
        o.batch_size = batch;
        o.flush_interval = 20ms;
        o.retry_interval = 1h;  // only flush() retries, unless a test says otherwise
        o.journal_path = dir_ / "events.journal";
        return o;
    }
    void record_range(EventRecorder& recorder, int from, int to) {
        for (int i = from; i < to; ++i) {
            recorder.record(sample_event(i));
        }
    }

    TempDir dir_{"mw-recorder"};
    std::shared_ptr<FakeStore> store_ = std::make_shared<FakeStore>();
};

TEST_F(EventRecorderTest, WritesEventsInOrderInBatches) {
    EventRecorder recorder(store_, options(4));
    record_range(recorder, 0, 10);
    ASSERT_TRUE(recorder.flush(5s));
    EXPECT_EQ(queue_ids(store_->events()), range_ids(0, 10));
    for (auto size : store_->batches()) {
        EXPECT_LE(size, 4u);
    }
    const auto stats = recorder.stats();
    EXPECT_EQ(stats.recorded, 10u);
    EXPECT_EQ(stats.written, 10u);
    EXPECT_EQ(stats.journaled, 0u);
    EXPECT_EQ(stats.queue_depth, 0u);
    EXPECT_TRUE(stats.store_up);
}

TEST_F(EventRecorderTest, WritesAPartialBatchAfterTheFlushInterval) {
    EventRecorder recorder(store_, options(100));
    record_range(recorder, 0, 3);
    EXPECT_TRUE(eventually([&] { return store_->events().size() == 3; }));
}

TEST_F(EventRecorderTest, JournalsWhileTheStoreIsDownAndReplaysInOrder) {
    EventRecorder recorder(store_, options(4));
    store_->set_down(true);
    record_range(recorder, 0, 6);
    ASSERT_TRUE(recorder.flush(5s));
    auto stats = recorder.stats();
    EXPECT_FALSE(stats.store_up);
    EXPECT_EQ(stats.journaled, 6u);
    EXPECT_GT(stats.journal_bytes, 0u);
    EXPECT_TRUE(store_->events().empty());

    // Back up: events recorded now must queue behind the journal, not overtake it.
    store_->set_down(false);
    record_range(recorder, 6, 10);
    ASSERT_TRUE(recorder.flush(5s));
    EXPECT_EQ(queue_ids(store_->events()), range_ids(0, 10));
    stats = recorder.stats();
    EXPECT_TRUE(stats.store_up);
    EXPECT_EQ(stats.replayed, 10u);
    EXPECT_EQ(stats.journal_bytes, 0u);
    EXPECT_EQ(stats.dropped, 0u);

    // and then writes directly again
    record_range(recorder, 10, 12);
    ASSERT_TRUE(recorder.flush(5s));
    EXPECT_EQ(queue_ids(store_->events()), range_ids(0, 12));
    EXPECT_EQ(recorder.stats().written, 2u);
}

TEST_F(EventRecorderTest, RetriesTheStoreEveryRetryInterval) {
    auto o = options(4);
    o.retry_interval = 50ms;
    EventRecorder recorder(store_, o);
    store_->set_down(true);
    record_range(recorder, 0, 5);
    ASSERT_TRUE(recorder.flush(5s));
    const int calls = store_->calls();
    std::this_thread::sleep_for(300ms);
    EXPECT_GE(store_->calls(), calls + 1);  // retried, and not in a busy loop either
    EXPECT_LE(store_->calls(), calls + 15);
    store_->set_down(false);
    EXPECT_TRUE(eventually([&] { return store_->events().size() == 5; }));
    EXPECT_EQ(queue_ids(store_->events()), range_ids(0, 5));
    EXPECT_TRUE(eventually([&] { return recorder.stats().journal_bytes == 0; }));
}

TEST_F(EventRecorderTest, AFullQueueSpillsToTheJournalWithoutLosingAnything) {
    auto o = options(1);
    o.queue_capacity = 2;
    EventRecorder recorder(store_, o);
    store_->set_stalled(true);
    recorder.record(sample_event(0));
    ASSERT_TRUE(eventually([&] { return store_->calls() == 1; }));  // the writer is stuck
    const auto started = std::chrono::steady_clock::now();
    record_range(recorder, 1, 6);  // two fit in the queue, three overflow
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);  // record() did not wait
    auto stats = recorder.stats();
    EXPECT_EQ(stats.recorded, 6u);
    EXPECT_EQ(stats.journaled, 3u);
    EXPECT_EQ(stats.queue_depth, 2u);
    store_->set_stalled(false);
    ASSERT_TRUE(recorder.flush(5s));
    auto ids = queue_ids(store_->events());
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, range_ids(0, 6));  // each exactly once
    EXPECT_EQ(recorder.stats().dropped, 0u);
}

TEST_F(EventRecorderTest, ReplaysAJournalLeftByAnEarlierRunAtStart) {
    {
        auto journal = Journal::open(dir_ / "events.journal", 1 << 20);
        ASSERT_TRUE(journal.has_value());
        std::vector<Event> old = {sample_event(0), sample_event(1), sample_event(2)};
        ASSERT_TRUE((*journal)->append(old).has_value());
    }
    {
        std::ofstream out(dir_ / "events.journal", std::ios::app);
        out << "garbage line\n";
    }
    EventRecorder recorder(store_, options(2));
    recorder.record(sample_event(3));
    EXPECT_TRUE(eventually([&] { return store_->events().size() == 4; }));
    EXPECT_EQ(queue_ids(store_->events()), range_ids(0, 4));
    // Q3 is written directly, or journaled behind the old events if it came during replay
    ASSERT_TRUE(recorder.flush(5s));  // counters are bumped just after the store call
    const auto stats = recorder.stats();
    EXPECT_GE(stats.replayed, 3u);
    EXPECT_EQ(stats.replayed + stats.written, 4u);
}

TEST_F(EventRecorderTest, CountsDropsWhenThereIsNoJournal) {
    auto o = options(4);
    o.journal_path.clear();
    EventRecorder recorder(store_, o);
    store_->set_down(true);
    record_range(recorder, 0, 3);
    ASSERT_TRUE(recorder.flush(5s));
    EXPECT_EQ(recorder.stats().dropped, 3u);
    EXPECT_EQ(recorder.stats().journaled, 0u);
}

TEST_F(EventRecorderTest, CountsDropsWhenTheJournalIsFull) {
    auto o = options(4);
    o.journal_max_bytes = 1000;
    EventRecorder recorder(store_, o);
    store_->set_down(true);
    record_range(recorder, 0, 8);
    ASSERT_TRUE(recorder.flush(5s));
    const auto stats = recorder.stats();
    EXPECT_EQ(stats.journaled + stats.dropped, 8u);
    EXPECT_GT(stats.dropped, 0u);
    EXPECT_LE(stats.journal_bytes, 1000u);
}

TEST_F(EventRecorderTest, DestructorDrainsTheQueue) {
    auto o = options(100);
    o.flush_interval = 1h;
    {
        EventRecorder recorder(store_, o);
        record_range(recorder, 0, 7);
    }
    EXPECT_EQ(queue_ids(store_->events()), range_ids(0, 7));
}

TEST_F(EventRecorderTest, DestructorJournalsWhatTheStoreRefuses) {
    auto o = options(100);
    o.flush_interval = 1h;
    store_->set_down(true);
    {
        EventRecorder recorder(store_, o);
        record_range(recorder, 0, 7);
    }
    store_->set_down(false);
    EventRecorder next(store_, options(100));
    ASSERT_TRUE(next.flush(5s));
    EXPECT_EQ(queue_ids(store_->events()), range_ids(0, 7));
}

}  // namespace
}  // namespace mailwarden::store
