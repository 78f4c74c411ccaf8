// A thread that runs a loop until it is asked to stop, for tests' helpers
// that work in the background (samplers, watchers, abusive clients).
//
// Thread safety: stop() may be called from any thread but the one it
// stops; the flag the body polls is atomic.
#pragma once

#include <atomic>
#include <functional>
#include <thread>
#include <utility>

namespace roster::testing {

// What a StoppableThread's body polls: true once stop() was called.
using StopFlag = std::atomic<bool>;

class StoppableThread {
 public:
  // Starts `body` on a new thread. The body should return soon after its
  // StopFlag turns true. Declare a StoppableThread member after everything
  // the body uses: it then starts last and is stopped and joined first.
  explicit StoppableThread(std::function<void(const StopFlag&)> body)
      : thread_([this, body = std::move(body)] { body(stop_); }) {}
  ~StoppableThread() { stop(); }
  StoppableThread(const StoppableThread&) = delete;
  StoppableThread& operator=(const StoppableThread&) = delete;

  // Asks the body to return and waits until it has. Idempotent.
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  StopFlag stop_{false};  // declared first: set up before the thread starts
  std::thread thread_;
};

}  // namespace roster::testing
