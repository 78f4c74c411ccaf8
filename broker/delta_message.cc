#include "delta_message.h"

#include <memory>

namespace roster::broker {

namespace {
void delete_delta(void* data, void* /*hint*/) {
  delete static_cast<Delta*>(data);
}
}  // namespace

zmq::message_t delta_message(Delta delta) {
  auto owned = std::make_unique<Delta>(std::move(delta));
  zmq::message_t message(owned.get(), sizeof(Delta), delete_delta);
  // The message owns it from here: released only once that cannot throw.
  owned.release();
  return message;
}

const Delta* delta_in(const zmq::message_t& message) {
  if (message.size() != sizeof(Delta)) return nullptr;
  return static_cast<const Delta*>(message.data());
}

}  // namespace roster::broker
