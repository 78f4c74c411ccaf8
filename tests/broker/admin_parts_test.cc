// Snapshots in parts on the admin channel (PROTOCOL.md, "snapshot in
// parts"): a request with part_bytes gets bounded snapshot_part messages
// and a snapshot_end that assemble to the single reply's snapshot; a
// request without the key (DEALER or REQ) gets the single reply, the same
// bytes while the version is unchanged; out-of-range sizes are clamped and
// a mistyped one is a bad_request; each version is built once.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "roster/codec.h"
#include "roster/snapshot_assembler.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"

namespace roster::testing {
namespace {

constexpr size_t kNodes = 1500;

class AdminPartsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = BrokerProcess::start({"--max-lease", "10m"});
    ASSERT_NE(broker_, nullptr);
    AgentClient agent(broker_->endpoints().agents);
    const Labels labels = {{"zone", std::string(100, 'z')}, {"role", std::string(100, 'r')}};
    for (size_t i = 0; i < kNodes; ++i) {
      ASSERT_EQ(
          error_code(agent.join("node-" + std::to_string(i), 1, 600'000, "10.0.0.1:7000", labels)),
          std::nullopt);
    }
  }

  // The raw bodies of the reply to `request`, read until a snapshot_end,
  // a snapshot or an error.
  std::vector<std::string> bodies(const std::string& request) {
    RequestClient client(broker_->endpoints().admin);
    client.send(request);
    std::vector<std::string> out;
    while (true) {
      auto body = client.receive();
      if (!body) {
        ADD_FAILURE() << "reply ended after " << out.size() << " bodies";
        return out;
      }
      out.push_back(*body);
      if (!decode_snapshot_part(*body).ok()) return out;
    }
  }

  std::string part_request(uint64_t part_bytes) {
    return encode(AdminRequest{SnapshotQuery{part_bytes}});
  }

  // Assembles `bodies` and checks each part's size against `limit`.
  Snapshot assemble(const std::vector<std::string>& replies, uint64_t limit) {
    SnapshotAssembler assembler;
    for (size_t i = 0; i < replies.size(); ++i) {
      if (i + 1 < replies.size()) {
        EXPECT_LE(replies[i].size(), limit + kMaxStateEnvelopeBytes);
      }
      assembler.add(replies[i]);
    }
    EXPECT_EQ(assembler.status(), SnapshotAssembler::Status::kDone) << assembler.error();
    return assembler.take();
  }

  uint64_t counter(const std::string& name) {
    auto stats = AdminClient(broker_->endpoints().admin).stats();
    EXPECT_TRUE(stats);
    return stats ? stats->counters[name] : 0;
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(AdminPartsTest, PartsAssembleToTheSingleReplysSnapshot) {
  const std::string single = bodies(encode(AdminRequest{SnapshotQuery{}})).at(0);
  auto whole = decode_snapshot(single);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  ASSERT_EQ(whole.value().nodes.size(), kNodes);
  ASSERT_GT(single.size(), 3 * kMinPartBytes);

  std::vector<std::string> replies = bodies(part_request(kMinPartBytes));
  ASSERT_GE(replies.size(), 4u);  // at least three parts and the end
  Snapshot assembled = assemble(replies, kMinPartBytes);
  // The same view; time_ms is each build's own.
  EXPECT_EQ(assembled.epoch, whole.value().epoch);
  EXPECT_EQ(assembled.version, whole.value().version);
  EXPECT_EQ(assembled.complete, whole.value().complete);
  EXPECT_EQ(assembled.nodes, whole.value().nodes);
  EXPECT_EQ(counter("admin_snapshot_parts"), replies.size() - 1);
}

TEST_F(AdminPartsTest, WithoutTheKeyDealerAndReqGetTheSameSingleBody) {
  const std::string request = encode(AdminRequest{SnapshotQuery{}});
  const std::string dealer = bodies(request).at(0);
  RequestClient req(broker_->endpoints().admin, zmq::socket_type::req);
  auto body = req.call(request);
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, dealer);
  EXPECT_TRUE(decode_snapshot(dealer).ok());
}

TEST_F(AdminPartsTest, OutOfRangeSizesAreClampedAndAMistypedOneIsRefused) {
  // Below the minimum: 64 KiB parts.
  std::vector<std::string> small = bodies(part_request(1));
  EXPECT_GE(small.size(), 4u);
  Snapshot assembled = assemble(small, kMinPartBytes);
  EXPECT_EQ(assembled.nodes.size(), kNodes);
  // Above the maximum: one part holds everything.
  std::vector<std::string> huge = bodies(part_request(uint64_t{1} << 62));
  ASSERT_EQ(huge.size(), 2u);
  EXPECT_EQ(assemble(huge, kMaxPartBytes).nodes.size(), kNodes);
  // Not an unsigned integer.
  RequestClient client(broker_->endpoints().admin);
  auto reply = client.call(std::string("\x83\xa1v\x01\xa4type\xa8snapshot\xaapart_bytes\xa3one"));
  ASSERT_TRUE(reply);
  auto decoded = decode_admin_reply(*reply);
  ASSERT_TRUE(decoded.ok());
  auto* error = std::get_if<ErrorReply>(&decoded.value());
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code, ErrorCode::kBadRequest);
  EXPECT_NE(error->message.find("part_bytes"), std::string::npos) << error->message;
}

TEST_F(AdminPartsTest, AnUnchangedVersionIsBuiltOnce) {
  bodies(encode(AdminRequest{SnapshotQuery{}}));
  bodies(part_request(kMinPartBytes));
  const uint64_t builds = counter("snapshot_builds");
  const std::string first = bodies(encode(AdminRequest{SnapshotQuery{}})).at(0);
  EXPECT_GE(bodies(part_request(kMinPartBytes)).size(), 2u);
  const std::string again = bodies(encode(AdminRequest{SnapshotQuery{}})).at(0);
  EXPECT_EQ(first, again);
  EXPECT_EQ(counter("snapshot_builds"), builds);
  EXPECT_GT(counter("snapshot_build_us"), 0u);
}

}  // namespace
}  // namespace roster::testing
