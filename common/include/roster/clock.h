// Time for roster. Every time in roster is a TimeMs: milliseconds on a
// monotonic clock that is anchored to Unix time when the clock is created,
// so it never goes backwards and still reads as a Unix timestamp.
//
// The membership core never reads a clock: shells read one and pass `now`.
#pragma once

#include <atomic>
#include <cstdint>

namespace roster {

using TimeMs = int64_t;

// Source of `now` for the I/O shells, which take one by reference so that
// tests can drive them with a SimulatedClock. Every implementation is
// thread-safe: now_ms() may be called from any thread at any time.
class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds, anchored to Unix time.
  virtual TimeMs now_ms() const = 0;
};

// The real clock: steady_clock anchored to system_clock at construction.
class SystemClock final : public Clock {
 public:
  SystemClock();
  TimeMs now_ms() const override;

 private:
  int64_t wall_at_start_ms_;
  int64_t steady_at_start_ns_;
};

// A clock that moves only when told to; for tests. Thread-safe: a shell's
// own thread may read it while the test moves it. Moving it wakes nothing:
// a shell that waits sees the new time when it next reads the clock.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(TimeMs start = 1'700'000'000'000) : now_(start) {}
  TimeMs now_ms() const override { return now_.load(std::memory_order_acquire); }
  void advance(TimeMs delta_ms) { now_.fetch_add(delta_ms, std::memory_order_acq_rel); }
  void set(TimeMs now) { now_.store(now, std::memory_order_release); }

 private:
  std::atomic<TimeMs> now_;
};

// Current Unix time in milliseconds (wall clock; may jump).
int64_t unix_now_ms();

}  // namespace roster
