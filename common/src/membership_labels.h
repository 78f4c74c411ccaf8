// PackedLabels: a node's labels as one heap block, for the membership core.
//
// A Labels map costs a map header plus a tree node of two strings per label
// (about 150 bytes for one short label); the packed form is one block of
// length-prefixed keys and values in key order (about 32 bytes for the same
// label). An empty set takes no heap memory.
//
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <memory>

#include "roster/protocol.h"

namespace roster::internal {

class PackedLabels {
 public:
  PackedLabels() = default;

  // Replaces the held labels with `labels`.
  void assign(const Labels& labels);
  // Drops the held labels and their heap block.
  void clear() { block_.reset(); }

  // True when no labels are held.
  bool empty() const { return block_ == nullptr; }
  // The held labels as a map.
  Labels unpack() const;
  // True when the held labels are exactly `labels`; allocates nothing.
  bool equals(const Labels& labels) const;

 private:
  // Layout: uint32 pair count, then per pair uint32 key size, key bytes,
  // uint32 value size, value bytes (host byte order, unaligned).
  std::unique_ptr<char[]> block_;
};

}  // namespace roster::internal
