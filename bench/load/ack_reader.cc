#include "ack_reader.h"

#include <cstddef>

namespace roster::bench {

namespace {

// A cursor over msgpack bytes; every read fails (returns false) rather
// than run past the end.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}

  bool map_header(uint32_t* size) {
    uint8_t tag = 0;
    if (!byte(&tag)) return false;
    if (tag >= 0x80 && tag <= 0x8f) {
      *size = tag & 0x0f;
      return true;
    }
    if (tag != 0xde && tag != 0xdf) return false;
    uint64_t n = 0;
    if (!big_endian(tag == 0xde ? 2 : 4, &n)) return false;
    *size = static_cast<uint32_t>(n);
    return true;
  }

  // A string, an unsigned integer, a boolean or nil: what a flat map may
  // hold. `text` is set for a string, `number` for an integer.
  bool scalar(std::string_view* text, uint64_t* number, bool* is_text) {
    uint8_t tag = 0;
    if (!byte(&tag)) return false;
    uint64_t length = 0;
    *is_text = false;
    if (tag <= 0x7f) {
      *number = tag;
      return true;
    }
    if (tag >= 0xa0 && tag <= 0xbf) {
      length = tag & 0x1f;
    } else if (tag == 0xd9 || tag == 0xda || tag == 0xdb) {
      if (!big_endian(size_t{1} << (tag - 0xd9), &length)) return false;
    } else if (tag >= 0xcc && tag <= 0xcf) {
      return big_endian(size_t{1} << (tag - 0xcc), number);
    } else {
      return tag == 0xc0 || tag == 0xc2 || tag == 0xc3;
    }
    if (bytes_.size() - at_ < length) return false;
    *text = bytes_.substr(at_, length);
    at_ += length;
    *is_text = true;
    return true;
  }

  bool at_end() const { return at_ == bytes_.size(); }

 private:
  bool byte(uint8_t* b) {
    if (at_ >= bytes_.size()) return false;
    *b = static_cast<uint8_t>(bytes_[at_++]);
    return true;
  }
  bool big_endian(size_t width, uint64_t* value) {
    if (bytes_.size() - at_ < width) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes_[at_ + i]);
    at_ += width;
    *value = v;
    return true;
  }

  std::string_view bytes_;
  size_t at_ = 0;
};

}  // namespace

bool read_fast_ack(std::string_view body, FastAck* ack) {
  Cursor in(body);
  uint32_t fields = 0;
  if (!in.map_header(&fields)) return false;
  bool is_ack = false;
  bool has_seq = false;
  bool has_state = false;
  FastAck out;
  for (uint32_t i = 0; i < fields; ++i) {
    std::string_view key;
    std::string_view text;
    uint64_t number = 0;
    bool key_is_text = false;
    bool is_text = false;
    if (!in.scalar(&key, &number, &key_is_text) || !key_is_text) return false;
    if (!in.scalar(&text, &number, &is_text)) return false;
    if (key == "type") {
      is_ack = is_text && text == "ack";
    } else if (key == "seq" && !is_text) {
      out.seq = number;
      has_seq = true;
    } else if (key == "lease_ms" && !is_text) {
      out.lease_ms = number;
    } else if (key == "state" && is_text) {
      out.alive = text == "alive";
      has_state = true;
    }
  }
  if (!is_ack || !has_seq || !has_state || !in.at_end()) return false;
  *ack = out;
  return true;
}

}  // namespace roster::bench
