// A fixture for tests of the broker's ROUTER envelope handling
// (envelope.h, ack_batch.h): a ROUTER bound on inproc, with a DEALER and a
// REQ client connected to it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>

#include <zmq.hpp>

namespace roster::broker {

class InprocRouterTest : public ::testing::Test {
 protected:
  // Long enough for "eventually" under sanitizers on 2 cores.
  static constexpr std::chrono::seconds kWait{10};
  // Where router_ is bound, for more clients.
  static constexpr const char* kEndpoint = "inproc://router";

  void SetUp() override {
    router_.set(zmq::sockopt::linger, 0);
    router_.bind(kEndpoint);
    for (auto* client : {&dealer_, &req_}) {
      client->set(zmq::sockopt::linger, 0);
      client->connect(kEndpoint);
    }
  }

  // Waits up to kWait for a message on the router; fails the test if none
  // comes.
  void wait_for_request() {
    zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(zmq::poll(&item, 1, kWait), 1) << "no message reached the router";
  }

  zmq::context_t context_{1};
  zmq::socket_t router_{context_, zmq::socket_type::router};
  zmq::socket_t dealer_{context_, zmq::socket_type::dealer};
  zmq::socket_t req_{context_, zmq::socket_type::req};
};

}  // namespace roster::broker
