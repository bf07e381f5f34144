// event_recorder.hpp - records every event without blocking the SMTP transaction: a
// bounded queue drained by one writer thread in batches into the Store, spilling to a
// local Journal while the store is down and replaying it, in order, when it returns.
//
// record() is O(1) and never waits on the store. Nothing is dropped silently: an event is
// written, journaled, or counted in `dropped` with an error log. Delivery is at least once
// (only a batch in flight at a crash, or one whose reply timed out, can be stored twice).
// One log line per state change, never per event.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include "store/event.hpp"
#include "store/journal.hpp"
#include "store/store.hpp"

namespace mailwarden::store {

/// Queue, batching, journal and retry settings of an EventRecorder.
struct RecorderOptions {
    std::size_t queue_capacity = 10000;  ///< events waiting for the writer; more go to the journal
    std::size_t batch_size = 256;        ///< events per append_events call
    std::chrono::milliseconds flush_interval{200};  ///< longest wait before a partial batch
    std::filesystem::path journal_path;  ///< empty: no journal (failed batches are dropped)
    std::uint64_t journal_max_bytes = 1ull << 30;
    std::chrono::milliseconds retry_interval{5000};  ///< store retry period while it is down
};

/// Counters since construction, for logs, tests and `mailwardenctl status`.
struct RecorderStats {
    std::uint64_t recorded = 0;       ///< record() calls
    std::uint64_t written = 0;        ///< appended to the store directly
    std::uint64_t journaled = 0;      ///< written to the journal
    std::uint64_t replayed = 0;       ///< appended to the store from the journal
    std::uint64_t dropped = 0;        ///< lost: no journal, or the journal failed or was full
    std::size_t queue_depth = 0;      ///< events waiting in the queue now
    bool store_up = true;             ///< the last store call succeeded
    std::uint64_t journal_bytes = 0;  ///< size of the journal file now
};

/// Asynchronous, batched event writer. Thread-safe; one instance per daemon.
class EventRecorder {
  public:
    /// Opens the journal (a journal left by an earlier run is replayed first) and starts
    /// the writer thread. A journal that cannot be opened is logged; the recorder runs
    /// without one.
    EventRecorder(std::shared_ptr<Store> store, RecorderOptions options);
    /// Drains the queue (to the store within kShutdownStoreBudget, then to the journal)
    /// and stops the writer thread.
    ~EventRecorder();
    EventRecorder(const EventRecorder&) = delete;
    EventRecorder& operator=(const EventRecorder&) = delete;

    /// Queues `event`. O(1), never waits on the store; when the queue is full the event is
    /// appended to the journal by the calling thread (no fsync) instead.
    void record(Event event) noexcept;

    /// Drains every event queued before the call into the store (or the journal), then
    /// retries the store at once and, if it answers, replays the whole journal. True when
    /// the writer finished that within `timeout` (the events are then in the store or, if
    /// it is still down, in the journal; see stats()).
    bool flush(std::chrono::milliseconds timeout);

    RecorderStats stats() const;

  private:
    using SteadyTime = std::chrono::steady_clock::time_point;

    void run();
    void write_batch(std::vector<Event>& batch, bool store_allowed);
    void replay(bool forced);
    void to_journal(std::span<const Event> events, bool sync);
    void mark_store(bool up, const util::Error* error);

    std::shared_ptr<Store> store_;
    RecorderOptions options_;
    std::unique_ptr<Journal> journal_;

    mutable std::mutex mutex_;
    std::condition_variable wake_writer_;
    std::condition_variable flushed_;
    std::deque<Event> queue_;
    bool stopping_ = false;
    bool queue_full_ = false;
    std::uint64_t flush_requested_ = 0;
    std::uint64_t flush_done_ = 0;

    std::atomic<std::uint64_t> recorded_{0};
    std::atomic<std::uint64_t> written_{0};
    std::atomic<std::uint64_t> journaled_{0};
    std::atomic<std::uint64_t> replayed_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<bool> store_up_{true};
    std::atomic<bool> journal_failing_{false};
    SteadyTime next_replay_at_{};  // writer thread only: when to try the store again

    std::thread writer_;  // last: starts after everything above is built
};

/// How long the destructor keeps trying the store before journaling the rest.
inline constexpr std::chrono::seconds kShutdownStoreBudget{5};

}  // namespace mailwarden::store
