// SnapshotAssembler: a chunked snapshot is put back together exactly, a
// whole snapshot (a broker from before parts) or an error reply is taken
// as it is, and every broken or hostile stream is an error naming the
// problem: another version mid-stream, parts out of order, too many parts,
// too many bytes, an end marker that disagrees, anything after the end.
#include "roster/snapshot_assembler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "roster/codec.h"

namespace roster {
namespace {

using Status = SnapshotAssembler::Status;

NodeRecord node(const std::string& id) {
  NodeRecord r;
  r.node = id;
  r.inc = 7;
  r.addr = "10.0.0.1:7000";
  r.labels = {{"zone", "a"}};
  r.lease_ms = 3000;
  r.since_ms = 1000;
  return r;
}

SnapshotPart part(uint64_t index, std::vector<NodeRecord> nodes, uint64_t version = 9) {
  return SnapshotPart{4, version, index, std::move(nodes)};
}

SnapshotEnd end(uint64_t parts, uint64_t nodes, uint64_t version = 9) {
  return SnapshotEnd{4, version, true, 1234, parts, nodes};
}

TEST(SnapshotAssemblerTest, PartsAndEndMakeTheSnapshot) {
  SnapshotAssembler a;
  EXPECT_EQ(a.add(encode(part(0, {node("a"), node("b")}))), Status::kMore);
  EXPECT_EQ(a.add(encode(part(1, {node("c")}))), Status::kMore);
  EXPECT_EQ(a.add(encode(end(2, 3))), Status::kDone);
  Snapshot s = a.take();
  EXPECT_EQ(s.epoch, 4u);
  EXPECT_EQ(s.version, 9u);
  EXPECT_TRUE(s.complete);
  EXPECT_EQ(s.time_ms, 1234u);
  EXPECT_EQ(s.nodes, (std::vector<NodeRecord>{node("a"), node("b"), node("c")}));
}

TEST(SnapshotAssemblerTest, AnEmptyViewIsJustTheEnd) {
  SnapshotAssembler a;
  EXPECT_EQ(a.add(encode(end(0, 0))), Status::kDone);
  EXPECT_TRUE(a.take().nodes.empty());
}

TEST(SnapshotAssemblerTest, AWholeSnapshotFromAnOlderBrokerIsTaken) {
  Snapshot whole{4, 9, false, 55, {node("a")}};
  SnapshotAssembler a;
  EXPECT_EQ(a.add(encode(whole)), Status::kDone);
  EXPECT_EQ(a.take(), whole);
}

TEST(SnapshotAssemblerTest, AnErrorReplyIsARefusal) {
  SnapshotAssembler a;
  EXPECT_EQ(a.add(encode(AdminReply(ErrorReply{0, ErrorCode::kOverCapacity, "busy"}))),
            Status::kFailed);
  ASSERT_TRUE(a.refusal().has_value());
  EXPECT_EQ(a.refusal()->code, ErrorCode::kOverCapacity);
  EXPECT_NE(a.error().find("busy"), std::string::npos);
}

// Feeds `bodies` and expects the last to fail with an error containing `why`.
void expect_failure(const std::vector<std::string>& bodies, const std::string& why,
                    SnapshotAssembler a = SnapshotAssembler()) {
  for (size_t i = 0; i + 1 < bodies.size(); ++i) {
    ASSERT_EQ(a.add(bodies[i]), Status::kMore) << "body " << i << ": " << a.error();
  }
  EXPECT_EQ(a.add(bodies.back()), Status::kFailed);
  EXPECT_NE(a.error().find(why), std::string::npos) << a.error();
  EXPECT_FALSE(a.refusal().has_value());
  // Nothing after a failure is taken.
  EXPECT_EQ(a.add(encode(end(0, 0))), Status::kFailed);
}

TEST(SnapshotAssemblerTest, AnotherVersionMidStreamFails) {
  expect_failure({encode(part(0, {node("a")})), encode(part(1, {node("b")}, 10))},
                 "part 1 has epoch 4 version 10, expected epoch 4 version 9");
}

TEST(SnapshotAssemblerTest, AnEndOfAnotherVersionFails) {
  expect_failure({encode(part(0, {node("a")})), encode(end(1, 1, 10))}, "snapshot_end has");
}

TEST(SnapshotAssemblerTest, PartsOutOfOrderFail) {
  expect_failure({encode(part(0, {node("a")})), encode(part(2, {node("b")}))},
                 "part 2 arrived, expected part 1");
  expect_failure({encode(part(1, {node("a")}))}, "part 1 arrived, expected part 0");
}

TEST(SnapshotAssemblerTest, AnEndThatDisagreesWithWhatCameFails) {
  // A part lost on the way (the queue dropped it) shows as a short count.
  expect_failure({encode(part(0, {node("a")})), encode(end(2, 2))}, "names 2 parts and 2 nodes");
  expect_failure({encode(part(0, {node("a")})), encode(end(1, 5))}, "received 1 parts and 1 nodes");
}

TEST(SnapshotAssemblerTest, TooManyPartsFail) {
  std::vector<std::string> bodies;
  for (uint64_t i = 0; i <= kMaxSnapshotParts; ++i) bodies.push_back(encode(part(i, {node("a")})));
  expect_failure(bodies, "more than 256 parts");
}

TEST(SnapshotAssemblerTest, TooManyBytesFail) {
  SnapshotAssembler::Limits limits;
  limits.max_bytes = 1000;
  std::vector<std::string> bodies;
  for (uint64_t i = 0; i < 20; ++i) bodies.push_back(encode(part(i, {node("a")})));
  std::vector<std::string> fed;
  size_t total = 0;
  for (const auto& body : bodies) {
    fed.push_back(body);
    total += body.size();
    if (total > limits.max_bytes) break;
  }
  expect_failure(fed, "exceed 1000 bytes", SnapshotAssembler(limits));
}

TEST(SnapshotAssemblerTest, AWholeSnapshotAfterPartsFails) {
  expect_failure({encode(part(0, {node("a")})), encode(Snapshot{4, 9, true, 1, {}})},
                 "a whole snapshot after 1 parts");
}

TEST(SnapshotAssemblerTest, MalformedBodiesAndOtherRepliesFail) {
  expect_failure({std::string("\xc1 not msgpack")}, "malformed reply");
  expect_failure({encode(AdminReply(Stats{}))}, "unknown type 'stats'");
  SnapshotPart removed = part(0, {node("a")});
  removed.nodes[0].state = NodeState::kRemoved;
  expect_failure({encode(removed)}, "malformed reply");
  // A declared array far beyond the body is refused before allocating.
  expect_failure(
      {std::string("\x83\xa1v\x01\xa4type\xadsnapshot_part\xa5nodes\xdd\xff\xff\xff\xff")},
      "malformed reply");
}

TEST(SnapshotAssemblerTest, AReplyAfterTheEndFails) {
  SnapshotAssembler a;
  ASSERT_EQ(a.add(encode(end(0, 0))), Status::kDone);
  EXPECT_EQ(a.add(encode(end(0, 0))), Status::kFailed);
  EXPECT_NE(a.error().find("after the snapshot_end"), std::string::npos);
}

}  // namespace
}  // namespace roster
