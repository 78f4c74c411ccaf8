// The publisher's record store: every snapshot it builds is byte for byte
// the encoding of a View fed the same deltas, through joins, changes,
// removals, records that grow past their slack, and arena compaction; its
// parts hold the same records in the same order within the part limits.
#include "record_store.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "roster/codec.h"
#include "roster/view.h"

namespace roster::broker {
namespace {

NodeRecord record_of(const std::string& id, uint64_t inc, NodeState state, size_t labels,
                     uint64_t since) {
  NodeRecord r;
  r.node = id;
  r.inc = inc;
  r.state = state;
  if (state == NodeState::kRemoved) return r;
  r.addr = "10.0.0." + std::to_string(inc % 256) + ":7000";
  for (size_t i = 0; i < labels; ++i) r.labels["k" + std::to_string(i)] = std::string(i * 3, 'v');
  r.lease_ms = 3000;
  r.since_ms = since;
  return r;
}

// A View and a RecordStore fed the same deltas.
class Pair {
 public:
  explicit Pair(Snapshot initial) {
    view_.reset(initial);
    store_.reset(initial);
  }

  void apply(const Delta& delta) {
    std::string body;
    ASSERT_EQ(store_.apply(delta, &body), view_.apply(delta));
    ASSERT_EQ(body, encode(delta));
  }

  Delta next(std::vector<NodeRecord> changes) {
    Delta delta;
    delta.epoch = view_.epoch();
    delta.prev_version = view_.version();
    delta.version = view_.version() + 1;
    delta.time_ms = 1000 + delta.version;
    delta.changes = std::move(changes);
    return delta;
  }

  void set_complete_both(bool complete) {
    view_.set_complete(complete);
    store_.set_complete(complete);
  }

  void expect_same(uint64_t time_ms) {
    ASSERT_EQ(store_.size(), view_.nodes().size());
    EXPECT_EQ(store_.snapshot(time_ms), encode(view_.to_snapshot(time_ms)));
  }

  View view_;
  RecordStore store_;
};

Snapshot initial_snapshot(size_t nodes) {
  Snapshot s;
  s.epoch = 77;
  s.version = 5;
  s.complete = false;
  for (size_t i = 0; i < nodes; ++i) {
    s.nodes.push_back(record_of("init-" + std::to_string(i), i + 1, NodeState::kAlive, i % 3, i));
  }
  return s;
}

TEST(RecordStoreTest, EmptyStoreEncodesAnEmptySnapshot) {
  Pair pair(initial_snapshot(0));
  pair.expect_same(123);
}

TEST(RecordStoreTest, RandomDeltasKeepTheSnapshotIdenticalToAFullEncode) {
  Pair pair(initial_snapshot(50));
  pair.expect_same(1);
  std::mt19937 random(16);
  const NodeState states[] = {NodeState::kAlive, NodeState::kSuspect, NodeState::kDead,
                              NodeState::kLeft, NodeState::kRemoved};
  for (int round = 0; round < 400; ++round) {
    std::vector<NodeRecord> changes;
    const size_t count = 1 + random() % 20;
    for (size_t i = 0; i < count; ++i) {
      // Ids of every length class: short (fixstr) and over 31 bytes (str 8).
      std::string id = "n" + std::to_string(random() % 300);
      if (random() % 4 == 0) id += std::string(40 + random() % 80, 'x');
      changes.push_back(record_of(id, random() % 5 + 1, states[random() % 5], random() % 6,
                                  random() % 4'000'000'000ull));
    }
    ASSERT_NO_FATAL_FAILURE(pair.apply(pair.next(std::move(changes))));
    if (round % 10 == 0) pair.set_complete_both(round % 20 == 0);
    ASSERT_NO_FATAL_FAILURE(pair.expect_same(5000 + round));
  }
}

// The order of nodes catches up only when a snapshot is built (or enough
// changes are pending): nodes that join, leave, are removed and come back
// between two snapshots must still come out once each, in id order.
TEST(RecordStoreTest, ChangesPendingAcrossManyDeltasSettleToTheSameSnapshot) {
  Pair pair(initial_snapshot(50));
  std::mt19937 random(61);
  const NodeState states[] = {NodeState::kAlive, NodeState::kLeft, NodeState::kRemoved};
  for (int round = 0; round < 1000; ++round) {
    std::vector<NodeRecord> changes;
    const size_t count = 1 + random() % 8;
    for (size_t i = 0; i < count; ++i) {
      std::string id = "n" + std::to_string(random() % 200);
      changes.push_back(record_of(id, random() % 5 + 1, states[random() % 3], random() % 3, 7));
    }
    ASSERT_NO_FATAL_FAILURE(pair.apply(pair.next(std::move(changes))));
    if (round % 25 == 24) {
      ASSERT_NO_FATAL_FAILURE(pair.expect_same(round));
    }
  }
}

TEST(RecordStoreTest, ManyJoinsAndRemovalsBetweenSnapshotsSettleOnTheirOwn) {
  Pair pair(initial_snapshot(0));
  for (size_t round = 0; round < 40; ++round) {
    std::vector<NodeRecord> changes;
    for (size_t i = 0; i < 500; ++i) {
      const size_t n = round * 500 + i;
      changes.push_back(record_of("j" + std::to_string(n), 1, NodeState::kAlive, 0, 1));
      if (n % 3 == 0 && n >= 900) {
        changes.push_back(record_of("j" + std::to_string(n - 900), 1, NodeState::kRemoved, 0, 1));
      }
    }
    ASSERT_NO_FATAL_FAILURE(pair.apply(pair.next(std::move(changes))));
  }
  ASSERT_NO_FATAL_FAILURE(pair.expect_same(77));
}

TEST(RecordStoreTest, ManyRewritesCompactTheArenaWithoutChangingTheSnapshot) {
  Pair pair(initial_snapshot(2000));
  const size_t before = pair.store_.memory_bytes();
  // Records that grow past their slack each round move to the arena's end.
  for (size_t round = 0; round < 12; ++round) {
    std::vector<NodeRecord> changes;
    for (size_t i = 0; i < 2000; ++i) {
      changes.push_back(
          record_of("init-" + std::to_string(i), i + 1, NodeState::kAlive, round * 2 % 13, round));
    }
    ASSERT_NO_FATAL_FAILURE(pair.apply(pair.next(std::move(changes))));
    ASSERT_NO_FATAL_FAILURE(pair.expect_same(round));
  }
  EXPECT_LT(pair.store_.memory_bytes(), before * 8);
}

TEST(RecordStoreTest, ADeltaThatDoesNotContinueChangesNothingButIsEncoded) {
  Pair pair(initial_snapshot(3));
  Delta gap = pair.next({record_of("x", 1, NodeState::kAlive, 0, 0)});
  gap.prev_version += 1;
  gap.version += 1;
  std::string body;
  EXPECT_EQ(pair.store_.apply(gap, &body), View::ApplyResult::kGap);
  EXPECT_EQ(body, encode(gap));
  Delta other = pair.next({record_of("x", 1, NodeState::kAlive, 0, 0)});
  other.epoch += 1;
  EXPECT_EQ(pair.store_.apply(other, &body), View::ApplyResult::kEpoch);
  pair.expect_same(9);
}

// The parts of `store` decoded and checked against its snapshot.
void expect_parts_match(RecordStore& store, uint64_t part_bytes) {
  std::vector<std::string> bodies = store.parts(42, part_bytes);
  ASSERT_FALSE(bodies.empty());
  auto snapshot = decode_snapshot(store.snapshot(42));
  ASSERT_TRUE(snapshot.ok());
  auto end = decode_snapshot_end(bodies.back());
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(end.value().epoch, store.epoch());
  EXPECT_EQ(end.value().version, store.version());
  EXPECT_EQ(end.value().complete, store.complete());
  EXPECT_EQ(end.value().time_ms, 42u);
  EXPECT_EQ(end.value().parts, bodies.size() - 1);
  EXPECT_EQ(end.value().node_count, store.size());
  EXPECT_LE(bodies.size() - 1, kMaxSnapshotParts);
  const uint64_t limit = store.effective_part_bytes(part_bytes);
  EXPECT_GE(limit, clamp_part_bytes(part_bytes));
  std::vector<NodeRecord> records;
  for (size_t i = 0; i + 1 < bodies.size(); ++i) {
    EXPECT_LE(bodies[i].size(), limit + kMaxStateEnvelopeBytes);
    auto part = decode_snapshot_part(bodies[i]);
    ASSERT_TRUE(part.ok()) << part.error().message;
    EXPECT_EQ(part.value().part, i);
    EXPECT_EQ(part.value().version, store.version());
    EXPECT_FALSE(part.value().nodes.empty());
    for (auto& r : part.value().nodes) records.push_back(r);
  }
  EXPECT_EQ(records, snapshot.value().nodes);
}

TEST(RecordStoreTest, PartsHoldTheSnapshotsRecordsInOrderWithinTheLimits) {
  Pair pair(initial_snapshot(20'000));
  pair.store_.set_complete(true);
  expect_parts_match(pair.store_, 64 * 1024);
  expect_parts_match(pair.store_, 1);           // clamped up to 64 KiB
  expect_parts_match(pair.store_, 1ull << 40);  // clamped down to 64 MiB: one part
  EXPECT_EQ(pair.store_.parts(1, 1ull << 40).size(), 2u);
  EXPECT_EQ(pair.store_.effective_part_bytes(1), kMinPartBytes);
}

TEST(RecordStoreTest, PartsGrowSoThatThereAreAtMost256) {
  Snapshot big = initial_snapshot(0);
  for (size_t i = 0; i < 60'000; ++i) {
    big.nodes.push_back(record_of("big-" + std::to_string(i), 1, NodeState::kAlive, 12, i));
  }
  Pair pair(big);
  ASSERT_GT(pair.store_.record_bytes() / kMinPartBytes, kMaxSnapshotParts);
  EXPECT_GT(pair.store_.effective_part_bytes(kMinPartBytes), kMinPartBytes);
  expect_parts_match(pair.store_, kMinPartBytes);
}

TEST(RecordStoreTest, AnEmptyStoreHasNoPartsButAnEnd) {
  Pair pair(initial_snapshot(0));
  std::vector<std::string> bodies = pair.store_.parts(1, kClientPartBytes);
  ASSERT_EQ(bodies.size(), 1u);
  auto end = decode_snapshot_end(bodies[0]);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end.value().parts, 0u);
  EXPECT_EQ(end.value().node_count, 0u);
}

}  // namespace
}  // namespace roster::broker
