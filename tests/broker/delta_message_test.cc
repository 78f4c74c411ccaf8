// The delta the event loop hands to the publisher is owned by its message:
// read, dropped unsent or left in a closing pipe, it is freed exactly once
// (the leak checker of the sanitized build is the judge).
#include "delta_message.h"

#include <gtest/gtest.h>

#include <string>

namespace roster::broker {
namespace {

Delta sample_delta() {
  NodeRecord record;
  record.node = "node-1";
  record.inc = 7;
  record.addr = "10.0.0.1:80";
  record.labels = {{"zone", "a"}};
  return Delta{3, 12, 11, 1732700000000ull, {record}};
}

// An inproc pipe like the one between the event loop and the publisher.
struct Pipe {
  Pipe() {
    for (zmq::socket_t* socket : {&loop_end, &publisher_end}) {
      socket->set(zmq::sockopt::linger, 0);
      socket->set(zmq::sockopt::sndhwm, 0);
      socket->set(zmq::sockopt::rcvhwm, 0);
    }
    loop_end.bind("inproc://delta-message-test");
    publisher_end.connect("inproc://delta-message-test");
  }
  zmq::context_t context{1};
  zmq::socket_t loop_end{context, zmq::socket_type::pair};
  zmq::socket_t publisher_end{context, zmq::socket_type::pair};
};

TEST(DeltaMessage, TheReaderSeesTheDeltaThatWasSent) {
  Pipe pipe;
  ASSERT_TRUE(pipe.loop_end.send(delta_message(sample_delta()), zmq::send_flags::none));
  zmq::message_t received;
  ASSERT_TRUE(pipe.publisher_end.recv(received, zmq::recv_flags::none));
  const Delta* delta = delta_in(received);
  ASSERT_NE(delta, nullptr);
  EXPECT_EQ(*delta, sample_delta());
}

TEST(DeltaMessage, ADroppedMessageFreesItsDelta) {
  zmq::message_t message = delta_message(sample_delta());
  EXPECT_NE(delta_in(message), nullptr);
}

TEST(DeltaMessage, APipeClosedWithDeltasQueuedFreesThem) {
  Pipe pipe;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(pipe.loop_end.send(delta_message(sample_delta()), zmq::send_flags::none));
  }
  // The publisher's end closes without reading (as if its thread died).
  pipe.publisher_end.close();
}

TEST(DeltaMessage, OtherMessagesAreNotDeltas) {
  zmq::message_t empty;
  EXPECT_EQ(delta_in(empty), nullptr);
  zmq::message_t text(std::string("D"));
  EXPECT_EQ(delta_in(text), nullptr);
}

}  // namespace
}  // namespace roster::broker
