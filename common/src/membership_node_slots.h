// The slots of the membership core's node table: a growable array of Node
// records that never move, stored in chunks of kChunkNodes.
//
// A std::deque would also keep its elements in place, but libstdc++ gives
// it 512-byte blocks (three 144-byte nodes each), so reaching a slot reads
// a block pointer out of a map as large as a third of the node count: one
// more cache miss on every heartbeat's lookup at 100k nodes. Here the map
// holds one pointer per kChunkNodes nodes and stays in L1.
//
// Cost: operator[] is two loads; emplace_back() allocates a chunk (whose
// nodes are default-constructed) every kChunkNodes calls, so at most one
// chunk is held beyond the slots in use.
//
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace roster::internal {

template <typename Node>
class NodeSlots {
 public:
  // Nodes per chunk: 512 nodes of 144 bytes are 72 KiB.
  static constexpr uint32_t kChunkShift = 9;
  static constexpr uint32_t kChunkNodes = 1u << kChunkShift;

  NodeSlots() = default;
  NodeSlots(const NodeSlots&) = delete;
  NodeSlots& operator=(const NodeSlots&) = delete;

  // The node in `slot`. REQUIRES: slot < size().
  Node& operator[](uint32_t slot) { return chunks_[slot >> kChunkShift][slot & kMask]; }
  const Node& operator[](uint32_t slot) const { return chunks_[slot >> kChunkShift][slot & kMask]; }

  // Slots in use: 0 .. size() - 1.
  size_t size() const { return size_; }

  // Appends a default-constructed node (slot size() before the call) and
  // returns it. Earlier nodes do not move.
  Node& emplace_back() {
    if ((size_ & kMask) == 0) chunks_.push_back(std::make_unique<Node[]>(kChunkNodes));
    return (*this)[static_cast<uint32_t>(size_++)];
  }

  // Calls fn(Node&) / fn(const Node&) on every slot in use, in slot order.
  template <typename Fn>
  void for_each(Fn&& fn) {
    for (size_t i = 0; i < size_; ++i) fn((*this)[static_cast<uint32_t>(i)]);
  }
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (size_t i = 0; i < size_; ++i) fn((*this)[static_cast<uint32_t>(i)]);
  }

 private:
  static constexpr uint32_t kMask = kChunkNodes - 1;

  std::vector<std::unique_ptr<Node[]>> chunks_;
  size_t size_ = 0;
};

}  // namespace roster::internal
