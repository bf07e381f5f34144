// clock.hpp - the only way code reads the time, so tests can control it.
#pragma once

#include <chrono>

namespace mailwarden::util {

using SystemTime = std::chrono::system_clock::time_point;

/// A source of wall-clock time. Implementations are thread-safe.
class Clock {
public:
    virtual ~Clock() = default;
    /// The current time.
    virtual SystemTime now() const = 0;
};

/// The real clock.
class SystemClock final : public Clock {
public:
    SystemTime now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace mailwarden::util
