// The id index of the membership core's node table: node id -> node slot,
// as one flat open-addressing array.
//
// The index does not store ids: each entry is {32 bits of the id's hash,
// node slot}, 8 bytes, and the caller supplies the id of a slot (a
// function key_of(slot) -> std::string_view) to confirm a match, so each id
// is stored once, in the node table. Collisions probe linearly; erase()
// shifts the following entries back (no tombstones), so a lookup never
// walks past more than the run its id belongs to. The array doubles before
// it is 70 % full, so a run stays short.
//
// Cost: find(), insert() and erase() are O(1) expected and allocate nothing
// except when insert() grows the array (amortized O(1)); a lookup touches
// one or two cache lines of the array plus the node whose id it compares.
// 8 bytes per entry, 11 to 23 bytes per held id.
//
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace roster::internal {

// The 64-bit hash of a node id that the index uses.
uint64_t hash_id(std::string_view id);

class IdIndex {
 public:
  // What find() returns when the id is not indexed.
  static constexpr uint32_t kNone = UINT32_MAX;

  IdIndex() = default;
  IdIndex(const IdIndex&) = delete;
  IdIndex& operator=(const IdIndex&) = delete;

  // The slot indexed under `id` (whose hash_id() is `hash`), or kNone.
  template <typename KeyOf>
  uint32_t find(std::string_view id, uint64_t hash, const KeyOf& key_of) const {
    if (entries_.empty()) return kNone;
    return entries_[probe(hash, [&](uint32_t slot) { return key_of(slot) == id; })].slot;
  }

  // A hint that changes nothing: starts loading into the CPU cache the
  // entry where find() of an id whose hash_id() is `hash` begins.
  void prefetch(uint64_t hash) const {
    if (!entries_.empty()) __builtin_prefetch(&entries_[home(tag_of(hash))]);
  }

  // The slot of the first entry whose tag matches `hash`, or kNone: the
  // node find() would compare first. A guess, for prefetching: no id is
  // compared, so the slot may hold another id.
  uint32_t first_candidate(uint64_t hash) const {
    if (entries_.empty()) return kNone;
    return entries_[probe(hash, [](uint32_t) { return true; })].slot;
  }

  // Indexes `slot` under an id whose hash_id() is `hash`. REQUIRES: no
  // slot is indexed under that id; slot != kNone.
  void insert(uint64_t hash, uint32_t slot);

  // Drops the entry of `id` (hash `hash`); returns false if none was there.
  template <typename KeyOf>
  bool erase(std::string_view id, uint64_t hash, const KeyOf& key_of) {
    if (entries_.empty()) return false;
    const size_t i = probe(hash, [&](uint32_t slot) { return key_of(slot) == id; });
    if (entries_[i].slot == kNone) return false;
    remove_at(i);
    return true;
  }

  // Ids indexed.
  size_t size() const { return size_; }
  // Entries of the array (a power of two, or 0).
  size_t capacity() const { return entries_.size(); }
  // Bytes held by the array.
  size_t capacity_bytes() const { return entries_.capacity() * sizeof(Entry); }

 private:
  struct Entry {
    uint32_t tag = 0;
    uint32_t slot = kNone;  // kNone: empty
  };

  static uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }
  size_t home(uint32_t tag) const { return tag & mask_; }
  // Walks the run of `hash` from its home entry: returns the position of
  // the first entry whose tag is the hash's and whose slot satisfies
  // `match`, or of the empty entry that ends the run.
  // REQUIRES: !entries_.empty().
  template <typename Match>
  size_t probe(uint64_t hash, const Match& match) const {
    const uint32_t tag = tag_of(hash);
    for (size_t i = home(tag);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.slot == kNone || (e.tag == tag && match(e.slot))) return i;
    }
  }
  // Empties entry i and shifts back the entries after it that probed past it.
  void remove_at(size_t i);
  void grow();

  std::vector<Entry> entries_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace roster::internal
