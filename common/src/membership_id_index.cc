#include "membership_id_index.h"

#include <cstring>
#include <utility>

namespace roster::internal {

namespace {

constexpr size_t kMinEntries = 16;
constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;

uint64_t mix(uint64_t h) {
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

}  // namespace

uint64_t hash_id(std::string_view id) {
  uint64_t h = id.size() * kMul;
  const char* p = id.data();
  size_t left = id.size();
  while (left >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 29;
    p += 8;
    left -= 8;
  }
  if (left > 0) {
    uint64_t word = 0;
    std::memcpy(&word, p, left);
    h = (h ^ word) * kMul;
  }
  return mix(h);
}

void IdIndex::insert(uint64_t hash, uint32_t slot) {
  // Keep the load under 70 %.
  if ((size_ + 1) * 10 > entries_.size() * 7) grow();
  const uint32_t tag = tag_of(hash);
  size_t i = home(tag);
  while (entries_[i].slot != kNone) i = (i + 1) & mask_;
  entries_[i] = Entry{tag, slot};
  ++size_;
}

void IdIndex::remove_at(size_t i) {
  --size_;
  size_t hole = i;
  for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    const Entry& e = entries_[j];
    if (e.slot == kNone) break;
    // e may move into the hole unless its home lies cyclically in (hole, j].
    const size_t h = home(e.tag);
    const bool home_after_hole = ((j - h) & mask_) < ((j - hole) & mask_);
    if (home_after_hole) continue;
    entries_[hole] = e;
    hole = j;
  }
  entries_[hole] = Entry{};
}

void IdIndex::grow() {
  std::vector<Entry> old = std::move(entries_);
  const size_t capacity = old.empty() ? kMinEntries : old.size() * 2;
  entries_.assign(capacity, Entry{});
  mask_ = capacity - 1;
  for (const Entry& e : old) {
    if (e.slot == kNone) continue;
    size_t i = home(e.tag);
    while (entries_[i].slot != kNone) i = (i + 1) & mask_;
    entries_[i] = e;
  }
}

}  // namespace roster::internal
