// A list that one thread appends to while others read it, for tests that
// record what callbacks running on another thread were told.
//
// Thread safety: every member may be called from any thread; one mutex
// guards the items.
#pragma once

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace roster::testing {

template <typename T>
class GuardedList {
 public:
  // Appends `item` at the end.
  void add(T item) {
    std::lock_guard<std::mutex> lock(mutex_);
    items_.push_back(std::move(item));
  }

  // A copy of the items so far, in the order they were added.
  std::vector<T> items() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_;
  }

  // How many items so far satisfy `pred`.
  template <typename Pred>
  size_t count_if(Pred pred) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<size_t>(std::count_if(items_.begin(), items_.end(), pred));
  }

 private:
  mutable std::mutex mutex_;
  std::vector<T> items_;
};

}  // namespace roster::testing
