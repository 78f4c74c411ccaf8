// receive_routed() into a reused RoutedRequest, as the event loop reads
// ahead: each read leaves exactly what the new message says, nothing of
// the one before, and a read that finds nothing leaves the request empty.
#include "envelope.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include <zmq.hpp>

#include "inproc_router.h"

namespace roster::broker {
namespace {

class ReusedRequestTest : public InprocRouterTest {
 protected:
  // Reads the next message into request_, waiting for it.
  bool read_next() {
    wait_for_request();
    return receive_routed(router_, &request_);
  }

  // request_ holds a well-formed request with body `body`, sent by a REQ
  // client (`delimiter`) or a DEALER.
  void expect_well_formed(std::string_view body, bool delimiter) const {
    EXPECT_TRUE(request_.well_formed);
    EXPECT_EQ(request_.delimiter, delimiter);
    EXPECT_EQ(request_.frames, delimiter ? 3u : 2u);
    EXPECT_EQ(request_.body.to_string_view(), body);
    EXPECT_TRUE(request_.peer.empty());
  }

  RoutedRequest request_;
};

TEST_F(ReusedRequestTest, EachReadHoldsOnlyItsOwnMessage) {
  req_.send(zmq::buffer(std::string("from req")), zmq::send_flags::none);
  ASSERT_TRUE(read_next());
  expect_well_formed("from req", true);
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
  expect_well_formed("from dealer", false);
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
  wait_for_request();
  auto request = receive_routed(router_);
  ASSERT_TRUE(request.has_value());
  EXPECT_TRUE(request->well_formed);
  EXPECT_TRUE(request->delimiter);
  EXPECT_EQ(request->body.to_string_view(), "hello");
}

}  // namespace
}  // namespace roster::broker
