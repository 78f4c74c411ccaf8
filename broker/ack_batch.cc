#include "ack_batch.h"

#include <algorithm>

namespace roster::broker {

static_assert(kMaxAckBytes <= UINT8_MAX, "AckBatch stores an ack's size in a byte");

AckBatch::AckBatch(zmq::socket_t& router, LatencyCounts& latency, size_t capacity)
    : router_(router), latency_(latency), entries_(std::max<size_t>(1, capacity)) {}

void AckBatch::add(RoutedRequest& request, const Ack& ack,
                   std::chrono::steady_clock::time_point received) {
  if (count_ == entries_.size()) flush();
  Entry& entry = entries_[count_++];
  entry.size = static_cast<uint8_t>(encode_ack(ack, entry.body));
  entry.id_frame.swap(request.id_frame);
  entry.delimiter = request.delimiter;
  entry.received = received;
}

size_t AckBatch::flush() {
  if (count_ == 0) return 0;
  // One clock read for the batch: the sends take microseconds.
  const auto sent = std::chrono::steady_clock::now();
  size_t taken = 0;
  for (size_t i = 0; i < count_; ++i) {
    Entry& entry = entries_[i];
    if (reply_routed(router_, entry.id_frame, entry.delimiter,
                     std::string_view(entry.body, entry.size))) {
      ++taken;
    }
    // A sent frame is empty; one that was not is released now.
    if (entry.id_frame.size() != 0) entry.id_frame.rebuild();
    latency_.observe(std::chrono::duration<double>(sent - entry.received).count());
  }
  count_ = 0;
  return taken;
}

}  // namespace roster::broker
