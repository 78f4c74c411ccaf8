// The sizing bounds of protocol.h: what the encoding adds to a record's
// content (kMaxRecordOverheadBytes) and to a snapshot or delta without its
// records (kMaxStateEnvelopeBytes), checked by encoding records at every
// maximum. The broker's --max-nodes x --max-record-bytes check relies on
// them to keep its largest snapshot under kMaxStateBodyBytes.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "roster/codec.h"
#include "roster/protocol.h"

namespace roster {
namespace {

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

// A record with `labels` labels whose keys and values have the given sizes,
// and every other field at its largest encoding.
NodeRecord MakeRecord(size_t id_bytes, size_t addr_bytes, size_t labels, size_t key_bytes,
                      size_t value_bytes, NodeState state = NodeState::kSuspect) {
  NodeRecord r;
  r.node = std::string(id_bytes, 'n');
  r.inc = kMaxU64;
  r.state = state;
  r.addr = std::string(addr_bytes, 'a');
  for (size_t i = 0; i < labels; ++i) {
    std::string key(key_bytes, 'k');
    // Distinct keys of the same size (upper case never repeats the filler).
    for (size_t j = 0, n = i; j < key.size() && n > 0; ++j, n /= 26) {
      key[j] = static_cast<char>('A' + n % 26);
    }
    r.labels[key] = std::string(value_bytes, 'v');
  }
  r.lease_ms = kMaxU64;
  r.since_ms = kMaxU64;
  return r;
}

// Every number at its widest encoding, and no records.
Snapshot EmptySnapshot() {
  return Snapshot{/*epoch=*/kMaxU64, /*version=*/kMaxU64, /*complete=*/false,
                  /*time_ms=*/kMaxU64, /*nodes=*/{}};
}

Delta EmptyDelta() {
  return Delta{/*epoch=*/kMaxU64, /*version=*/kMaxU64, /*prev_version=*/kMaxU64 - 1,
               /*time_ms=*/kMaxU64, /*changes=*/{}};
}

// What one record adds to a snapshot that already holds one (so the array
// header does not change size).
size_t RecordOverhead(const NodeRecord& r) {
  Snapshot one = EmptySnapshot();
  one.nodes.push_back(MakeRecord(1, 0, 0, 0, 0));
  Snapshot two = one;
  two.nodes.push_back(r);
  size_t added = encode(two).size() - encode(one).size();
  size_t content = record_bytes(r.node, r.addr, r.labels);
  EXPECT_GE(added, content);
  return added - content;
}

TEST(RecordSize, RecordBytesCountsIdAddrAndLabels) {
  EXPECT_EQ(record_bytes("n1", "", {}), 2u);
  EXPECT_EQ(record_bytes("n1", "10.0.0.1:80", {{"zone", "a"}, {"role", "db"}}), 2u + 11 + 5 + 6);
  NodeRecord largest = MakeRecord(kMaxNodeIdBytes, kMaxAddrBytes, kMaxLabels, kMaxLabelKeyBytes,
                                  kMaxLabelValueBytes);
  EXPECT_EQ(record_bytes(largest.node, largest.addr, largest.labels), kMaxRecordContentBytes);
  EXPECT_EQ(kMaxRecordContentBytes, 10'624u);
}

TEST(RecordSize, OverheadOfTheLargestRecordIsWithinTheBound) {
  NodeRecord largest = MakeRecord(kMaxNodeIdBytes, kMaxAddrBytes, kMaxLabels, kMaxLabelKeyBytes,
                                  kMaxLabelValueBytes);
  size_t overhead = RecordOverhead(largest);
  EXPECT_LE(overhead, kMaxRecordOverheadBytes);
  // The bound is tight enough to be useful: within 10 bytes of the worst case.
  EXPECT_GE(overhead + 10, kMaxRecordOverheadBytes);
}

TEST(RecordSize, OverheadIsWithinTheBoundAtEveryHeaderSize) {
  // String headers grow at 32, 256 and 65536 bytes; map headers at 16
  // entries. Try every field just below and at each step it can reach.
  const std::vector<size_t> ids = {1, 31, 32, kMaxNodeIdBytes};
  const std::vector<size_t> addrs = {0, 31, 32, 255, kMaxAddrBytes};
  const std::vector<size_t> label_counts = {0, 1, 15, 16, kMaxLabels};
  const std::vector<size_t> keys = {1, 31, 32, kMaxLabelKeyBytes};
  const std::vector<size_t> values = {0, 31, 32, 255, kMaxLabelValueBytes};
  size_t worst = 0;
  for (size_t id : ids) {
    for (size_t addr : addrs) {
      for (size_t labels : label_counts) {
        for (size_t key : keys) {
          for (size_t value : values) {
            for (NodeState state : {NodeState::kAlive, NodeState::kSuspect, NodeState::kRemoved}) {
              NodeRecord r = MakeRecord(id, addr, labels, key, value, state);
              if (state == NodeState::kRemoved) {
                r.addr.clear();
                r.labels.clear();
              }
              worst = std::max(worst, RecordOverhead(r));
            }
          }
        }
      }
    }
  }
  EXPECT_LE(worst, kMaxRecordOverheadBytes);
}

TEST(RecordSize, EnvelopeOfSnapshotAndDeltaIsWithinTheBound) {
  // The nodes array header is largest (5 bytes) from 65536 records on;
  // count it at that size: an empty array's header is 1 byte.
  const size_t array32_growth = 4;
  EXPECT_LE(encode(EmptySnapshot()).size() + array32_growth, kMaxStateEnvelopeBytes);
  EXPECT_LE(encode(EmptyDelta()).size() + array32_growth, kMaxStateEnvelopeBytes);
  // The admin reply carries the same body.
  EXPECT_LE(encode(AdminReply(EmptySnapshot())).size() + array32_growth, kMaxStateEnvelopeBytes);
}

TEST(RecordSize, SnapshotOfManyLargestRecordsIsWithinTheFormula) {
  // 70,000 records (a 5-byte array header) at the largest content the
  // bound allows: the body stays within max_snapshot_bytes().
  const size_t count = 70'000;
  const size_t max_record = 300;
  Snapshot s = EmptySnapshot();
  s.nodes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    NodeRecord r = MakeRecord(kMaxNodeIdBytes, 0, 1, 32, max_record - kMaxNodeIdBytes - 32);
    std::string suffix = std::to_string(i);
    r.node.replace(r.node.size() - suffix.size(), suffix.size(), suffix);
    ASSERT_EQ(record_bytes(r.node, r.addr, r.labels), max_record);
    s.nodes.push_back(std::move(r));
  }
  EXPECT_LE(encode(s).size(), max_snapshot_bytes(count, max_record));
}

TEST(RecordSize, MaxSnapshotBytesFormula) {
  EXPECT_EQ(max_snapshot_bytes(0, 2048), kMaxStateEnvelopeBytes);
  EXPECT_EQ(max_snapshot_bytes(10, 100), kMaxStateEnvelopeBytes + 10 * (100 + 256));
  // A bound above what the protocol allows counts as the protocol's maximum.
  EXPECT_EQ(max_snapshot_bytes(1, 1'000'000), max_snapshot_bytes(1, kMaxRecordContentBytes));
  // No overflow.
  EXPECT_EQ(max_snapshot_bytes(kMaxU64, 2048), kMaxU64);
  EXPECT_EQ(max_snapshot_bytes(kMaxU64 / 300, kMaxU64), kMaxU64);
}

}  // namespace
}  // namespace roster
