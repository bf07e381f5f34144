// event_recorder_test.cpp - EventRecorder with a real RedisStore: events reach the stream,
// and while Redis is down they are journaled and replayed exactly once, in order.
#include "store/event_recorder.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "store/redis_store.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"
#include "unit/store/store_contract.hpp"

namespace mailwarden::store {
namespace {

using contract::sample_event;
using mailwarden::testing::RedisServer;
using mailwarden::testing::TempDir;
using namespace std::chrono_literals;

class RecorderWithRedis : public ::testing::Test {
  protected:
    void SetUp() override {
        MW_START_REDIS_OR_SKIP(server_);
        RedisOptions o;
        o.port = server_->port();
        o.connect_timeout = 300ms;
        o.command_timeout = 300ms;
        store_ = std::make_shared<RedisStore>(o);
    }
    RecorderOptions recorder_options() {
        RecorderOptions o;
        o.batch_size = 8;
        o.flush_interval = 20ms;
        o.retry_interval = 1h;
        o.journal_path = dir_ / "events.journal";
        return o;
    }
    // Queue ids of mw:events, oldest first.
    std::vector<std::string> stream_queue_ids() {
        auto reply = server_->command({"XRANGE", "mw:events", "-", "+"});
        EXPECT_TRUE(reply.has_value());
        std::vector<std::string> ids;
        if (!reply) {
            return ids;
        }
        for (const auto& entry : reply->elements) {
            const auto& fields = entry.elements.at(1).elements;
            for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
                if (fields[i].text == "queue_id") {
                    ids.push_back(fields[i + 1].text);
                }
            }
        }
        return ids;
    }
    static std::vector<std::string> range_ids(int from, int to) {
        std::vector<std::string> ids;
        for (int i = from; i < to; ++i) {
            ids.push_back("Q" + std::to_string(i));
        }
        return ids;
    }

    std::unique_ptr<RedisServer> server_;
    std::shared_ptr<RedisStore> store_;
    TempDir dir_{"mw-recorder"};
};

TEST_F(RecorderWithRedis, RecordedEventsAreQueryable) {
    EventRecorder recorder(store_, recorder_options());
    for (int i = 0; i < 20; ++i) {
        recorder.record(sample_event(i));
    }
    ASSERT_TRUE(recorder.flush(5s));
    EXPECT_EQ(stream_queue_ids(), range_ids(0, 20));
    EventQuery q;
    q.login = "user1";
    auto out = store_->query_events(q);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(contract::queue_ids(*out), (std::vector<std::string>{"Q19", "Q13", "Q7", "Q1"}));
    EXPECT_EQ(recorder.stats().written, 20u);
}

TEST_F(RecorderWithRedis, JournalIsReplayedExactlyOnceInOrderWhenRedisReturns) {
    EventRecorder recorder(store_, recorder_options());
    for (int i = 0; i < 5; ++i) {
        recorder.record(sample_event(i));
    }
    ASSERT_TRUE(recorder.flush(5s));
    ASSERT_EQ(stream_queue_ids(), range_ids(0, 5));

    server_->kill();
    for (int i = 5; i < 45; ++i) {
        recorder.record(sample_event(i));
    }
    ASSERT_TRUE(recorder.flush(5s));
    auto stats = recorder.stats();
    EXPECT_FALSE(stats.store_up);
    EXPECT_EQ(stats.journaled, 40u);
    EXPECT_GT(stats.journal_bytes, 0u);

    ASSERT_TRUE(server_->restart().has_value());  // no persistence: Q0..Q4 are gone
    ASSERT_TRUE(recorder.flush(5s));
    EXPECT_EQ(stream_queue_ids(), range_ids(5, 45));
    stats = recorder.stats();
    EXPECT_TRUE(stats.store_up);
    EXPECT_EQ(stats.replayed, 40u);
    EXPECT_EQ(stats.journal_bytes, 0u);
    EXPECT_EQ(stats.dropped, 0u);
}

TEST_F(RecorderWithRedis, RetriesOnItsOwnAfterTheRetryInterval) {
    auto o = recorder_options();
    o.retry_interval = 100ms;
    EventRecorder recorder(store_, o);
    server_->kill();
    for (int i = 0; i < 10; ++i) {
        recorder.record(sample_event(i));
    }
    ASSERT_TRUE(recorder.flush(5s));
    ASSERT_TRUE(server_->restart().has_value());
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (stream_queue_ids().size() < 10 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(stream_queue_ids(), range_ids(0, 10));
}

TEST_F(RecorderWithRedis, AJournalFromAPreviousRunIsReplayedAtStart) {
    server_->kill();
    {
        EventRecorder recorder(store_, recorder_options());
        for (int i = 0; i < 12; ++i) {
            recorder.record(sample_event(i));
        }
    }  // shut down with Redis away: everything is in the journal
    ASSERT_TRUE(server_->restart().has_value());
    EventRecorder recorder(store_, recorder_options());
    ASSERT_TRUE(recorder.flush(5s));
    EXPECT_EQ(stream_queue_ids(), range_ids(0, 12));
}

}  // namespace
}  // namespace mailwarden::store
