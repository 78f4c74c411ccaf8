#include "record_store.h"

#include <algorithm>
#include <functional>

namespace roster::broker {

namespace {

// Spare bytes reserved behind each encoding, so that the usual changes of
// a record (another state name, a longer since_ms) overwrite it in place.
constexpr uint32_t kSlack = 8;
// The arena is compacted when dead bytes exceed both this and the live ones.
constexpr size_t kMinCompactBytes = 1 << 20;
// Bytes of a record encoding before its node id: a map header, then the
// string "node" (a4 6e 6f 64 65), then the id's string header.
constexpr size_t kIdHeaderOffset = 6;

uint32_t hash_id(std::string_view id) {
  auto h = static_cast<uint64_t>(std::hash<std::string_view>()(id));
  return static_cast<uint32_t>(h ^ (h >> 32));
}

}  // namespace

void RecordStore::clear() {
  arena_.clear();
  live_bytes_ = 0;
  dead_bytes_ = 0;
  slots_.clear();
  free_slots_.clear();
  index_.assign(16, Entry{});
  index_used_ = 0;
  order_.clear();
  pending_added_.clear();
  pending_dead_.clear();
}

void RecordStore::reset(const Snapshot& snapshot) {
  clear();
  has_base_ = true;
  epoch_ = snapshot.epoch;
  version_ = snapshot.version;
  complete_ = snapshot.complete;
  std::string scratch;
  std::vector<uint32_t> added;
  for (const NodeRecord& record : snapshot.nodes) {
    scratch.clear();
    append_record(&scratch, record);
    const uint32_t hash = hash_id(record.node);
    uint32_t slot = find(record.node, hash);
    if (slot != kNone) {
      replace(slot, scratch);
    } else {
      added.push_back(add(scratch));
    }
  }
  note_order_changes(added, {});
  settle();
}

View::ApplyResult RecordStore::apply(const Delta& delta, std::string* delta_body) {
  using Result = View::ApplyResult;
  Result result = !has_base_                       ? Result::kNoBase
                  : delta.epoch != epoch_          ? Result::kEpoch
                  : delta.version <= version_      ? Result::kOld
                  : delta.prev_version != version_ ? Result::kGap
                                                   : Result::kApplied;
  *delta_body = encode_delta_head({delta.epoch, delta.version, delta.prev_version, delta.time_ms},
                                  delta.changes.size());
  std::vector<uint32_t> added;
  std::vector<uint32_t> dead;
  std::string scratch;
  for (const NodeRecord& record : delta.changes) {
    const size_t start = delta_body->size();
    append_record(delta_body, record);
    if (result != Result::kApplied) continue;
    const std::string_view bytes(delta_body->data() + start, delta_body->size() - start);
    const uint32_t hash = hash_id(record.node);
    const uint32_t slot = find(record.node, hash);
    if (record.state == NodeState::kRemoved) {
      if (slot == kNone) continue;
      index_erase(record.node, hash);
      live_bytes_ -= slots_[slot].size;
      dead_bytes_ += slots_[slot].capacity;
      slots_[slot].size = 0;
      dead.push_back(slot);
    } else if (slot != kNone) {
      replace(slot, bytes);
    } else {
      added.push_back(add(bytes));
    }
  }
  if (result != Result::kApplied) return result;
  version_ = delta.version;
  if (!added.empty() || !dead.empty()) note_order_changes(added, dead);
  compact_if_sparse();
  return result;
}

size_t RecordStore::memory_bytes() const {
  return arena_.capacity() + slots_.capacity() * sizeof(Slot) +
         free_slots_.capacity() * sizeof(uint32_t) + index_.capacity() * sizeof(Entry) +
         (order_.capacity() + pending_added_.capacity() + pending_dead_.capacity()) *
             sizeof(uint32_t);
}

std::string RecordStore::snapshot(uint64_t time_ms) {
  settle();
  std::string out = encode_snapshot_head({epoch_, version_, complete_, time_ms}, order_.size());
  out.reserve(out.size() + live_bytes_);
  for (uint32_t slot : order_) out.append(encoding(slot));
  return out;
}

uint64_t RecordStore::effective_part_bytes(uint64_t part_bytes) {
  settle();
  uint64_t largest = 0;
  for (uint32_t slot : order_) largest = std::max<uint64_t>(largest, slots_[slot].size);
  // Every part but the last then holds more than live / (max - 1) bytes,
  // so there are at most kMaxSnapshotParts.
  const uint64_t needed = live_bytes_ / (kMaxSnapshotParts - 1) + largest + 1;
  return std::max(clamp_part_bytes(part_bytes), needed);
}

std::vector<std::string> RecordStore::parts(uint64_t time_ms, uint64_t part_bytes) {
  const uint64_t limit = effective_part_bytes(part_bytes);
  std::vector<std::string> bodies;
  size_t first = 0;
  while (first < order_.size()) {
    size_t last = first;
    uint64_t bytes = 0;
    while (last < order_.size() && (last == first || bytes + slots_[order_[last]].size <= limit)) {
      bytes += slots_[order_[last]].size;
      ++last;
    }
    std::string body = encode_snapshot_part_head({epoch_, version_, bodies.size()}, last - first);
    body.reserve(body.size() + bytes);
    for (size_t i = first; i < last; ++i) body.append(encoding(order_[i]));
    bodies.push_back(std::move(body));
    first = last;
  }
  SnapshotEnd end{epoch_, version_, complete_, time_ms, bodies.size(), order_.size()};
  bodies.push_back(encode(end));
  return bodies;
}

std::string_view RecordStore::encoding(uint32_t slot) const {
  return {arena_.data() + slots_[slot].offset, slots_[slot].size};
}

std::string_view RecordStore::id_of(uint32_t slot) const {
  const std::string_view bytes = encoding(slot);
  const auto header = static_cast<unsigned char>(bytes[kIdHeaderOffset]);
  // append_record() writes ids (at most 128 bytes) as fixstr or str 8.
  if ((header & 0xE0) == 0xA0) return bytes.substr(kIdHeaderOffset + 1, header & 0x1F);
  const auto size = static_cast<unsigned char>(bytes[kIdHeaderOffset + 1]);
  return bytes.substr(kIdHeaderOffset + 2, size);
}

uint32_t RecordStore::find(std::string_view id, uint32_t hash) const {
  const size_t mask = index_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Entry& entry = index_[i];
    if (entry.slot_plus_one == 0) return kNone;
    if (entry.hash == hash && id_of(entry.slot_plus_one - 1) == id) return entry.slot_plus_one - 1;
  }
}

void RecordStore::index_insert(uint32_t slot, uint32_t hash) {
  if ((index_used_ + 1) * 2 > index_.size()) grow_index();
  const size_t mask = index_.size() - 1;
  size_t i = hash & mask;
  while (index_[i].slot_plus_one != 0) i = (i + 1) & mask;
  index_[i] = Entry{slot + 1, hash};
  ++index_used_;
}

// Linear probing with backward-shift deletion: no tombstones.
void RecordStore::index_erase(std::string_view id, uint32_t hash) {
  const size_t mask = index_.size() - 1;
  size_t i = hash & mask;
  while (true) {
    const Entry& entry = index_[i];
    if (entry.slot_plus_one == 0) return;
    if (entry.hash == hash && id_of(entry.slot_plus_one - 1) == id) break;
    i = (i + 1) & mask;
  }
  size_t hole = i;
  for (size_t j = (hole + 1) & mask; index_[j].slot_plus_one != 0; j = (j + 1) & mask) {
    const size_t home = index_[j].hash & mask;
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    index_[hole] = index_[j];
    hole = j;
  }
  index_[hole] = Entry{};
  --index_used_;
}

void RecordStore::grow_index() {
  std::vector<Entry> old = std::move(index_);
  index_.assign(std::max<size_t>(16, old.size() * 2), Entry{});
  const size_t mask = index_.size() - 1;
  for (const Entry& entry : old) {
    if (entry.slot_plus_one == 0) continue;
    size_t i = entry.hash & mask;
    while (index_[i].slot_plus_one != 0) i = (i + 1) & mask;
    index_[i] = entry;
  }
}

uint32_t RecordStore::add(std::string_view bytes) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  append(slot, bytes);
  live_bytes_ += bytes.size();
  index_insert(slot, hash_id(id_of(slot)));
  return slot;
}

void RecordStore::replace(uint32_t slot, std::string_view bytes) {
  Slot& s = slots_[slot];
  live_bytes_ = live_bytes_ - s.size + bytes.size();
  if (bytes.size() <= s.capacity) {
    arena_.replace(s.offset, bytes.size(), bytes.data(), bytes.size());
    s.size = static_cast<uint32_t>(bytes.size());
    return;
  }
  dead_bytes_ += s.capacity;
  append(slot, bytes);
}

void RecordStore::append(uint32_t slot, std::string_view bytes) {
  Slot& s = slots_[slot];
  s.offset = arena_.size();
  s.size = static_cast<uint32_t>(bytes.size());
  s.capacity = static_cast<uint32_t>(bytes.size()) + kSlack;
  arena_.append(bytes);
  arena_.append(kSlack, '\0');
}

void RecordStore::note_order_changes(const std::vector<uint32_t>& added,
                                     const std::vector<uint32_t>& dead) {
  pending_added_.insert(pending_added_.end(), added.begin(), added.end());
  pending_dead_.insert(pending_dead_.end(), dead.begin(), dead.end());
  // Settling costs a pass over order_: once per quarter of the nodes
  // changed keeps it amortised O(1) per change and bounds the pending lists.
  if (pending_added_.size() + pending_dead_.size() > std::max<size_t>(4096, order_.size() / 4)) {
    settle();
  }
}

void RecordStore::settle() {
  auto by_id = [this](uint32_t a, uint32_t b) { return id_of(a) < id_of(b); };
  // Dead slots are freed only now, so none was reused (and mistaken for a
  // live one) while order_ or pending_added_ still named it.
  auto is_dead = [this](uint32_t slot) { return slots_[slot].size == 0; };
  if (!pending_dead_.empty()) {
    order_.erase(std::remove_if(order_.begin(), order_.end(), is_dead), order_.end());
    pending_added_.erase(std::remove_if(pending_added_.begin(), pending_added_.end(), is_dead),
                         pending_added_.end());
    for (uint32_t slot : pending_dead_) {
      slots_[slot].capacity = 0;
      free_slots_.push_back(slot);
    }
    pending_dead_.clear();
  }
  if (pending_added_.empty()) return;
  std::sort(pending_added_.begin(), pending_added_.end(), by_id);
  // Where each new slot goes, found by binary search: k log n comparisons
  // of ids rather than n for a plain merge.
  std::vector<size_t> at(pending_added_.size());
  size_t from = 0;
  for (size_t i = 0; i < pending_added_.size(); ++i) {
    from = static_cast<size_t>(std::upper_bound(order_.begin() + static_cast<std::ptrdiff_t>(from),
                                                order_.end(), pending_added_[i], by_id) -
                               order_.begin());
    at[i] = from;
  }
  std::vector<uint32_t> merged;
  merged.reserve(order_.size() + pending_added_.size());
  size_t next = 0;
  for (size_t i = 0; i < pending_added_.size(); ++i) {
    merged.insert(merged.end(), order_.begin() + static_cast<std::ptrdiff_t>(next),
                  order_.begin() + static_cast<std::ptrdiff_t>(at[i]));
    merged.push_back(pending_added_[i]);
    next = at[i];
  }
  merged.insert(merged.end(), order_.begin() + static_cast<std::ptrdiff_t>(next), order_.end());
  order_ = std::move(merged);
  pending_added_.clear();
}

void RecordStore::compact_if_sparse() {
  if (dead_bytes_ < kMinCompactBytes || dead_bytes_ < arena_.size() / 2) return;
  settle();
  std::string arena;
  arena.reserve(live_bytes_ + order_.size() * kSlack);
  // In id order: the next snapshot copies the arena front to back.
  for (uint32_t slot : order_) {
    Slot& s = slots_[slot];
    const size_t offset = arena.size();
    arena.append(arena_, s.offset, s.size);
    arena.append(kSlack, '\0');
    s.offset = offset;
    s.capacity = s.size + kSlack;
  }
  arena_ = std::move(arena);
  dead_bytes_ = 0;
}

}  // namespace roster::broker
