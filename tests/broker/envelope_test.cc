// receive_routed() into a reused RoutedRequest, as the event loop reads
// ahead: each read leaves exactly what the new message says, nothing of
// the one before, and a read that finds nothing leaves the request empty.
#include "envelope.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <zmq.hpp>

namespace roster::broker {
namespace {

constexpr auto kWait = std::chrono::seconds(10);

class ReusedRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.set(zmq::sockopt::linger, 0);
    router_.bind("inproc://envelope");
    for (auto* client : {&dealer_, &req_}) {
      client->set(zmq::sockopt::linger, 0);
      client->connect("inproc://envelope");
    }
  }

  // Reads the next message into request_, waiting for it.
  bool read_next() {
    zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(zmq::poll(&item, 1, kWait), 1);
    return receive_routed(router_, &request_);
  }

  zmq::context_t context_{1};
  zmq::socket_t router_{context_, zmq::socket_type::router};
  zmq::socket_t dealer_{context_, zmq::socket_type::dealer};
  zmq::socket_t req_{context_, zmq::socket_type::req};
  RoutedRequest request_;
};

TEST_F(ReusedRequestTest, EachReadHoldsOnlyItsOwnMessage) {
  req_.send(zmq::buffer(std::string("from req")), zmq::send_flags::none);
  ASSERT_TRUE(read_next());
  EXPECT_TRUE(request_.well_formed);
  EXPECT_TRUE(request_.delimiter);
  EXPECT_EQ(request_.frames, 3u);
  EXPECT_EQ(request_.body.to_string_view(), "from req");
  const std::string req_id = request_.routing_id;

  // Malformed (three frames, no delimiter): the body of the last read
  // must not show through.
  dealer_.send(zmq::buffer(std::string("a")), zmq::send_flags::sndmore);
  dealer_.send(zmq::buffer(std::string("b")), zmq::send_flags::sndmore);
  dealer_.send(zmq::buffer(std::string("c")), zmq::send_flags::none);
  ASSERT_TRUE(read_next());
  EXPECT_FALSE(request_.well_formed);
  EXPECT_FALSE(request_.delimiter);
  EXPECT_EQ(request_.frames, 4u);
  EXPECT_EQ(request_.body.size(), 0u);
  EXPECT_NE(request_.routing_id, req_id);

  dealer_.send(zmq::buffer(std::string("from dealer")), zmq::send_flags::none);
  ASSERT_TRUE(read_next());
  EXPECT_TRUE(request_.well_formed);
  EXPECT_FALSE(request_.delimiter);
  EXPECT_EQ(request_.frames, 2u);
  EXPECT_EQ(request_.body.to_string_view(), "from dealer");
  EXPECT_TRUE(request_.peer.empty());
}

TEST_F(ReusedRequestTest, AReadThatFindsNothingEmptiesTheRequest) {
  dealer_.send(zmq::buffer(std::string("beat")), zmq::send_flags::none);
  ASSERT_TRUE(read_next());
  ASSERT_EQ(request_.body.to_string_view(), "beat");
  EXPECT_FALSE(receive_routed(router_, &request_));
  EXPECT_FALSE(request_.well_formed);
  EXPECT_EQ(request_.frames, 0u);
  EXPECT_EQ(request_.body.size(), 0u);
  EXPECT_TRUE(request_.routing_id.empty());
}

TEST_F(ReusedRequestTest, TheOptionalFormAgreesWithTheReusedForm) {
  EXPECT_FALSE(receive_routed(router_).has_value());
  req_.send(zmq::buffer(std::string("hello")), zmq::send_flags::none);
  zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
  ASSERT_EQ(zmq::poll(&item, 1, kWait), 1);
  auto request = receive_routed(router_);
  ASSERT_TRUE(request.has_value());
  EXPECT_TRUE(request->well_formed);
  EXPECT_TRUE(request->delimiter);
  EXPECT_EQ(request->body.to_string_view(), "hello");
}

}  // namespace
}  // namespace roster::broker
