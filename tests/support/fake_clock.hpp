// fake_clock.hpp - a Clock that tests move by hand.
#pragma once

#include <atomic>
#include <chrono>

#include "util/clock.hpp"

namespace mailwarden::testing {

/// Starts at a fixed instant (2026-01-01T00:00:00Z) unless told otherwise; thread-safe.
class FakeClock final : public util::Clock {
public:
    FakeClock() : now_(util::SystemTime{std::chrono::seconds{1767225600}}) {}
    explicit FakeClock(util::SystemTime start) : now_(start) {}

    util::SystemTime now() const override { return now_.load(); }
    void set(util::SystemTime t) { now_.store(t); }
    void advance(std::chrono::nanoseconds d) {
        now_.store(now_.load() + std::chrono::duration_cast<util::SystemTime::duration>(d));
    }

private:
    std::atomic<util::SystemTime> now_;
};

}  // namespace mailwarden::testing
