// The publisher's copy of the membership: each node's record kept already
// encoded (msgpack, as it appears in a snapshot or delta), so that a
// snapshot is built by writing a small header and copying the records
// behind it, not by encoding every node again.
//
// Layout: the encodings live back to back in one arena; a slot per node
// says where its encoding is; an open-addressing index maps a node id
// (read from the encoding itself) to its slot; and a vector of slots in
// node id order gives the snapshot's order, the same as View::nodes(). A
// record that changes is encoded once and overwrites its old encoding when
// it fits (each gets a little slack), else goes to the end of the arena;
// the arena is compacted when more than half of it is dead.
//
// Pure: no clock, no sockets. Thread safety: none; one owner (the
// publisher thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "roster/codec.h"
#include "roster/protocol.h"
#include "roster/view.h"

namespace roster::broker {

class RecordStore {
 public:
  // Replaces the whole store with `snapshot` (its time_ms is not kept).
  void reset(const Snapshot& snapshot);

  // Applies `delta` if it continues the store, with View::apply()'s checks
  // and meaning (kRemoved deletes the node, any other record replaces it);
  // changes nothing otherwise. In every case sets *delta_body to the
  // delta's encoding (the same bytes as encode(delta)), built from the
  // record encodings the store keeps, so each record is encoded once.
  View::ApplyResult apply(const Delta& delta, std::string* delta_body);

  void set_complete(bool complete) { complete_ = complete; }

  uint64_t epoch() const { return epoch_; }
  uint64_t version() const { return version_; }
  bool complete() const { return complete_; }
  // Nodes held.
  size_t size() const { return index_used_; }
  // Bytes of the live record encodings (what a snapshot copies).
  size_t record_bytes() const { return live_bytes_; }
  // Bytes the store holds on the heap (arena, slots, index, order).
  size_t memory_bytes() const;

  // The store as a snapshot body stamped with `time_ms`: byte for byte
  // encode(Snapshot) of the same fields with the nodes in id order.
  std::string snapshot(uint64_t time_ms);

  // The store as a chunked admin reply (snapshot_parts.h): the bodies of
  // the snapshot_part messages, then the snapshot_end's. Each part holds
  // records in id order up to `part_bytes` (clamped by clamp_part_bytes(),
  // then made larger if more than kMaxSnapshotParts parts would be
  // needed) and is at most that plus a small header.
  std::vector<std::string> parts(uint64_t time_ms, uint64_t part_bytes);

  // The part size parts() uses for a request of `part_bytes`.
  uint64_t effective_part_bytes(uint64_t part_bytes);

 private:
  struct Slot {
    uint64_t offset = 0;    // in arena_
    uint32_t size = 0;      // bytes of the encoding
    uint32_t capacity = 0;  // bytes reserved at offset; 0: the slot is free
  };
  // One index entry: slot + 1 (0: empty) and the id's hash.
  struct Entry {
    uint32_t slot_plus_one = 0;
    uint32_t hash = 0;
  };

  std::string_view encoding(uint32_t slot) const;
  std::string_view id_of(uint32_t slot) const;
  // The slot of `id`, or kNone.
  uint32_t find(std::string_view id, uint32_t hash) const;
  void index_insert(uint32_t slot, uint32_t hash);
  void index_erase(std::string_view id, uint32_t hash);
  void grow_index();
  // Stores `bytes` as the encoding of a new node; returns its slot.
  uint32_t add(std::string_view bytes);
  // Replaces the encoding of `slot` with `bytes`.
  void replace(uint32_t slot, std::string_view bytes);
  // Writes `bytes` at the end of the arena with slack; sets the slot.
  void append(uint32_t slot, std::string_view bytes);
  // Notes slots added and slots that died in one delta; order_ catches up
  // in settle(), when a snapshot needs it or enough changes are pending, so
  // a delta costs what it changes, not a pass over every node.
  void note_order_changes(const std::vector<uint32_t>& added, const std::vector<uint32_t>& dead);
  // Drops the pending dead slots from order_ (freeing them for reuse) and
  // merges the pending added ones into it, in id order.
  void settle();
  void compact_if_sparse();
  void clear();

  static constexpr uint32_t kNone = UINT32_MAX;

  uint64_t epoch_ = 0;
  uint64_t version_ = 0;
  bool complete_ = false;
  bool has_base_ = false;
  std::string arena_;
  size_t live_bytes_ = 0;  // sum of live slots' sizes
  size_t dead_bytes_ = 0;  // arena bytes no slot uses
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<Entry> index_ = std::vector<Entry>(16);  // a power of two, at most half full
  size_t index_used_ = 0;
  std::vector<uint32_t> order_;          // live slots by node id, but for the pending ones
  std::vector<uint32_t> pending_added_;  // added since settle(), not in order_
  std::vector<uint32_t> pending_dead_;   // died since settle(), not yet free
};

}  // namespace roster::broker
