#include "membership_labels.h"

#include <cstdint>
#include <cstring>
#include <string_view>

namespace roster::internal {

namespace {

void put_u32(char** out, size_t value) {
  const auto v = static_cast<uint32_t>(value);
  std::memcpy(*out, &v, sizeof v);
  *out += sizeof v;
}

uint32_t get_u32(const char** in) {
  uint32_t v;
  std::memcpy(&v, *in, sizeof v);
  *in += sizeof v;
  return v;
}

std::string_view get_text(const char** in) {
  const uint32_t size = get_u32(in);
  std::string_view text(*in, size);
  *in += size;
  return text;
}

}  // namespace

void PackedLabels::assign(const Labels& labels) {
  if (labels.empty()) {
    block_.reset();
    return;
  }
  size_t bytes = sizeof(uint32_t);
  for (const auto& [key, value] : labels) bytes += 2 * sizeof(uint32_t) + key.size() + value.size();
  auto block = std::make_unique<char[]>(bytes);
  char* out = block.get();
  put_u32(&out, labels.size());
  for (const auto& [key, value] : labels) {
    put_u32(&out, key.size());
    std::memcpy(out, key.data(), key.size());
    out += key.size();
    put_u32(&out, value.size());
    std::memcpy(out, value.data(), value.size());
    out += value.size();
  }
  block_ = std::move(block);
}

Labels PackedLabels::unpack() const {
  Labels labels;
  if (!block_) return labels;
  const char* in = block_.get();
  const uint32_t count = get_u32(&in);
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view key = get_text(&in);
    std::string_view value = get_text(&in);
    labels.emplace_hint(labels.end(), std::string(key), std::string(value));
  }
  return labels;
}

bool PackedLabels::equals(const Labels& labels) const {
  if (!block_) return labels.empty();
  const char* in = block_.get();
  if (get_u32(&in) != labels.size()) return false;
  for (const auto& [key, value] : labels) {
    if (get_text(&in) != key) return false;
    if (get_text(&in) != value) return false;
  }
  return true;
}

}  // namespace roster::internal
