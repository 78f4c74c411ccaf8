// AckBatch over real inproc sockets: acks leave only when flushed, in the
// order added, with the request's envelope; a full batch flushes itself;
// each ack's latency is observed once.
#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ack_batch.h"
#include "counters.h"
#include "envelope.h"
#include "inproc_router.h"
#include "roster/codec.h"

namespace roster::broker {
namespace {

class AckBatchTest : public InprocRouterTest {
 protected:
  // Sends `body` from `client` and reads it on the router.
  RoutedRequest request_from(zmq::socket_t& client, const std::string& body = "beat") {
    client.send(zmq::buffer(body), zmq::send_flags::none);
    wait_for_request();
    auto request = receive_routed(router_);
    EXPECT_TRUE(request.has_value());
    return request ? std::move(*request) : RoutedRequest{};
  }

  // The seq of the next ack `client` receives; 0 if none comes in `wait`.
  static uint64_t next_ack_seq(zmq::socket_t& client, std::chrono::milliseconds wait) {
    zmq::pollitem_t item{client.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, wait) != 1) return 0;
    zmq::message_t reply;
    EXPECT_TRUE(client.recv(reply, zmq::recv_flags::none));
    auto decoded = decode_agent_reply(reply.to_string_view());
    if (!decoded.ok() || !std::holds_alternative<Ack>(decoded.value())) {
      ADD_FAILURE() << "not an ack";
      return 0;
    }
    return std::get<Ack>(decoded.value()).seq;
  }

  static Ack ack_with_seq(uint64_t seq) {
    Ack ack;
    ack.seq = seq;
    ack.epoch = 7;
    ack.lease_ms = 3000;
    return ack;
  }

  static uint64_t observed(const LatencyCounts& latency) {
    return std::accumulate(latency.counts.begin(), latency.counts.end(), uint64_t{0});
  }

  LatencyCounts latency_;
};

TEST_F(AckBatchTest, AcksLeaveOnlyWhenFlushedAndInTheOrderAdded) {
  AckBatch batch(router_, latency_, 8);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    RoutedRequest request = request_from(dealer_);
    batch.add(request, ack_with_seq(seq), std::chrono::steady_clock::now());
    EXPECT_EQ(request.id_frame.size(), 0u) << "the routing id frame is taken";
  }
  EXPECT_EQ(batch.size(), 3u);
  EXPECT_EQ(next_ack_seq(dealer_, std::chrono::milliseconds(50)), 0u) << "sent before flush()";
  EXPECT_EQ(observed(latency_), 0u);

  EXPECT_EQ(batch.flush(), 3u);
  EXPECT_EQ(batch.size(), 0u);
  for (uint64_t seq = 1; seq <= 3; ++seq) EXPECT_EQ(next_ack_seq(dealer_, kWait), seq);
  EXPECT_EQ(observed(latency_), 3u) << "one latency observation per ack";
  EXPECT_EQ(batch.flush(), 0u) << "an empty batch sends nothing";
}

TEST_F(AckBatchTest, AFullBatchFlushesBeforeTakingTheNextAck) {
  AckBatch batch(router_, latency_, 2);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    RoutedRequest request = request_from(dealer_);
    batch.add(request, ack_with_seq(seq), std::chrono::steady_clock::now());
  }
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(next_ack_seq(dealer_, kWait), 1u);
  EXPECT_EQ(next_ack_seq(dealer_, kWait), 2u);
  EXPECT_EQ(next_ack_seq(dealer_, std::chrono::milliseconds(50)), 0u);
  batch.flush();
  EXPECT_EQ(next_ack_seq(dealer_, kWait), 3u);
}

TEST_F(AckBatchTest, ReqClientGetsItsAckWithTheDelimiter) {
  AckBatch batch(router_, latency_, 4);
  RoutedRequest request = request_from(req_);
  ASSERT_TRUE(request.delimiter);
  batch.add(request, ack_with_seq(42), std::chrono::steady_clock::now());
  batch.flush();
  // A REQ socket drops a reply without the empty delimiter frame.
  EXPECT_EQ(next_ack_seq(req_, kWait), 42u);
}

TEST_F(AckBatchTest, AckToAPeerThatIsGoneIsDroppedAndTheRestStillLeave) {
  AckBatch batch(router_, latency_, 4);
  {
    zmq::socket_t gone(context_, zmq::socket_type::dealer);
    gone.set(zmq::sockopt::linger, 0);
    gone.connect(kEndpoint);
    RoutedRequest request = request_from(gone);
    batch.add(request, ack_with_seq(1), std::chrono::steady_clock::now());
  }
  RoutedRequest request = request_from(dealer_);
  batch.add(request, ack_with_seq(2), std::chrono::steady_clock::now());
  batch.flush();
  EXPECT_EQ(next_ack_seq(dealer_, kWait), 2u);
  EXPECT_EQ(observed(latency_), 2u);
}

}  // namespace
}  // namespace roster::broker
