// event_recorder.cpp - EventRecorder's writer thread: batches from the queue go to the
// store while it answers and the journal is empty; otherwise to the journal, behind what
// is already there, so events keep their order. The store is retried every
// retry_interval by replaying the journal's oldest batch.
//
// Only the writer thread calls the store. Journal appends come from the writer and, when
// the queue is full, from record() callers; Journal serializes them.
#include "store/event_recorder.hpp"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

namespace mailwarden::store {
namespace {

// Journal batches replayed per writer turn, so queued events are not starved.
constexpr int kReplayBatchesPerTurn = 16;

}  // namespace

EventRecorder::EventRecorder(std::shared_ptr<Store> store, RecorderOptions options)
    : store_(std::move(store)), options_(std::move(options)) {
    if (options_.batch_size == 0) {
        options_.batch_size = 1;
    }
    if (!options_.journal_path.empty()) {
        auto journal = Journal::open(options_.journal_path, options_.journal_max_bytes);
        if (journal) {
            journal_ = std::move(*journal);
            if (!journal_->empty()) {
                spdlog::info("event journal {}: {} bytes left from an earlier run, replaying",
                             options_.journal_path.string(), journal_->size_bytes());
            }
        } else {
            spdlog::error("event journal unusable, running without one: {}",
                          journal.error().describe());
        }
    }
    writer_ = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_writer_.notify_one();
    writer_.join();
}

void EventRecorder::record(Event event) noexcept {
    try {
        recorded_.fetch_add(1, std::memory_order_relaxed);
        bool queued = false, notify = false, room_again = false, newly_full = false;
        {
            std::lock_guard lock(mutex_);
            if (!stopping_ && queue_.size() < options_.queue_capacity) {
                queue_.push_back(std::move(event));
                queued = true;
                notify = queue_.size() >= options_.batch_size;
                room_again = std::exchange(queue_full_, false);
            } else {
                newly_full = !std::exchange(queue_full_, true);
            }
        }
        if (queued) {
            if (room_again) {
                spdlog::info("event queue has room again");
            }
            if (notify) {
                wake_writer_.notify_one();
            }
            return;
        }
        if (newly_full) {
            spdlog::warn("event queue full ({} events): events go straight to the journal",
                         options_.queue_capacity);
        }
        to_journal(std::span<const Event>(&event, 1), false);
    } catch (...) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
    }
}

bool EventRecorder::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const std::uint64_t target = ++flush_requested_;
    wake_writer_.notify_one();
    return flushed_.wait_for(lock, timeout, [&] { return flush_done_ >= target; });
}

RecorderStats EventRecorder::stats() const {
    RecorderStats s;
    s.recorded = recorded_.load();
    s.written = written_.load();
    s.journaled = journaled_.load();
    s.replayed = replayed_.load();
    s.dropped = dropped_.load();
    s.store_up = store_up_.load();
    s.journal_bytes = journal_ ? journal_->size_bytes() : 0;
    std::lock_guard lock(mutex_);
    s.queue_depth = queue_.size();
    return s;
}

void EventRecorder::run() {
    std::unique_lock lock(mutex_);
    std::optional<SteadyTime> shutdown_deadline;
    while (true) {
        const auto now = std::chrono::steady_clock::now();
        auto wake_at = now + options_.flush_interval;
        if (journal_ && !journal_->empty()) {
            wake_at = std::min(wake_at, std::max(now, next_replay_at_));
        }
        wake_writer_.wait_until(lock, wake_at, [&] {
            return stopping_ || queue_.size() >= options_.batch_size ||
                   flush_requested_ > flush_done_;
        });
        const std::uint64_t flush_target = flush_requested_;
        const bool flushing = flush_target > flush_done_;
        const bool stopping = stopping_;
        if (stopping && !shutdown_deadline) {
            shutdown_deadline = std::chrono::steady_clock::now() + kShutdownStoreBudget;
        }
        // A flush drains what was queued when it was asked for (not what keeps arriving);
        // a stop drains everything (record() no longer queues); otherwise one batch.
        std::size_t budget = flushing || stopping ? queue_.size() : options_.batch_size;
        do {
            std::vector<Event> batch;
            const std::size_t n = std::min({queue_.size(), options_.batch_size, budget});
            budget -= n;
            batch.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            lock.unlock();
            const bool store_allowed =
                !shutdown_deadline || std::chrono::steady_clock::now() < *shutdown_deadline;
            if (!batch.empty()) {
                write_batch(batch, store_allowed);
            }
            if (!stopping) {
                replay(false);
            }
            lock.lock();
        } while (budget > 0 && !queue_.empty());
        if (flushing) {
            lock.unlock();
            replay(true);
            lock.lock();
            flush_done_ = flush_target;
            flushed_.notify_all();
        }
        if (stopping && queue_.empty()) {
            break;
        }
    }
}

void EventRecorder::write_batch(std::vector<Event>& batch, bool store_allowed) {
    const auto now = std::chrono::steady_clock::now();
    const bool behind_journal = journal_ && !journal_->empty();
    const bool try_store =
        store_allowed && !behind_journal && (store_up_ || now >= next_replay_at_);
    if (try_store) {
        auto result = store_->append_events(batch);
        if (result) {
            written_.fetch_add(batch.size(), std::memory_order_relaxed);
            mark_store(true, nullptr);
            return;
        }
        mark_store(false, &result.error());
        next_replay_at_ = std::chrono::steady_clock::now() + options_.retry_interval;
    }
    to_journal(batch, true);
}

void EventRecorder::replay(bool forced) {
    if (!journal_ || journal_->empty()) {
        return;
    }
    if (!forced && std::chrono::steady_clock::now() < next_replay_at_) {
        return;
    }
    // A flush replays the whole journal; the writer's own turns are bounded.
    for (int turn = 0; (forced || turn < kReplayBatchesPerTurn) && !journal_->empty(); ++turn) {
        auto events = journal_->peek(options_.batch_size);
        if (!events) {
            spdlog::error("event journal unreadable: {}", events.error().describe());
            next_replay_at_ = std::chrono::steady_clock::now() + options_.retry_interval;
            return;
        }
        if (!events->empty()) {
            auto result = store_->append_events(*events);
            if (!result) {
                mark_store(false, &result.error());
                next_replay_at_ = std::chrono::steady_clock::now() + options_.retry_interval;
                return;
            }
            mark_store(true, nullptr);
        }
        if (auto committed = journal_->commit_read(); !committed) {
            spdlog::error("event journal: {}", committed.error().describe());
        }
        replayed_.fetch_add(events->size(), std::memory_order_relaxed);
        if (journal_->empty()) {
            spdlog::info("event journal {} replayed; writing to the {} store again",
                         journal_->path().string(), store_->kind());
        }
    }
}

void EventRecorder::to_journal(std::span<const Event> events, bool sync) {
    util::Result<void> result = journal_
                                    ? journal_->append(events, sync)
                                    : util::Result<void>(util::fail(util::ErrorCode::Unavailable,
                                                                    "no journal_path configured"));
    if (result) {
        journaled_.fetch_add(events.size(), std::memory_order_relaxed);
        if (journal_failing_.exchange(false)) {
            spdlog::info("event journal {} writable again", journal_->path().string());
        }
        return;
    }
    dropped_.fetch_add(events.size(), std::memory_order_relaxed);
    if (!journal_failing_.exchange(true)) {
        spdlog::error("events dropped: the store did not take them and the journal failed: {}",
                      result.error().describe());
    }
}

void EventRecorder::mark_store(bool up, const util::Error* error) {
    const bool was_up = store_up_.exchange(up);
    if (was_up && !up) {
        spdlog::warn("event store {} failed ({}); events go to the journal{} until it answers",
                     store_->kind(), error != nullptr ? error->describe() : "",
                     journal_ ? " " + journal_->path().string() : " (none configured)");
    } else if (!was_up && up) {
        spdlog::info("event store {} answers again", store_->kind());
    }
}

}  // namespace mailwarden::store
