// The allocation-free heartbeat path of the codec (codec.h):
// decode_heartbeat_ref and encode_ack into a caller's buffer.
//
// The decoder is a small msgpack scanner for one flat map: it walks the body once, keeps
// views of the values of the agent-request keys, skips the values of other
// keys, and gives up (returns false) on anything that is not a plain,
// valid heartbeat, nested values included. Giving up is always safe: the
// caller then runs decode_agent_request, which accepts or refuses the body
// with its error message. So this file never has to phrase an error, only
// to accept exactly what decode_agent_request accepts as a heartbeat.
#include <cstring>

#include "roster/codec.h"

namespace roster {

namespace {

// The kinds of scalar this scanner tells apart.
enum class Scalar : uint8_t { kUint, kStr, kOther };

// One scalar value: a uint's value, or a string's bytes.
struct Value {
  Scalar kind = Scalar::kOther;
  uint64_t uint = 0;
  std::string_view str;
};

// Reads msgpack scalars from a body; every read fails on a truncated body.
class Scanner {
 public:
  explicit Scanner(std::string_view body)
      : p_(reinterpret_cast<const unsigned char*>(body.data())), end_(p_ + body.size()) {}

  bool at_end() const { return p_ == end_; }

  // Reads a map header; false if the next value is not a map.
  bool map_header(uint32_t* pairs) {
    if (p_ == end_) return false;
    const unsigned char b = *p_++;
    if ((b & 0xf0) == 0x80) {
      *pairs = b & 0x0f;
      return true;
    }
    if (b == 0xde) return big_endian(2, pairs);
    if (b == 0xdf) return big_endian(4, pairs);
    return false;
  }

  // Reads one scalar; false on a container, a reserved byte or truncation.
  bool scalar(Value* out) {
    if (p_ == end_) return false;
    const unsigned char b = *p_++;
    out->kind = Scalar::kOther;
    if (b <= 0x7f) return uint(b, out);
    if ((b & 0xe0) == 0xa0) return str(b & 0x1f, out);
    if (b >= 0xe0) return true;  // negative fixint
    uint64_t v = 0;
    switch (b) {
      case 0xc0:  // nil
      case 0xc2:  // false
      case 0xc3:  // true
        return true;
      case 0xcc:
        return big_endian(1, &v) && uint(v, out);
      case 0xcd:
        return big_endian(2, &v) && uint(v, out);
      case 0xce:
        return big_endian(4, &v) && uint(v, out);
      case 0xcf:
        return big_endian(8, &v) && uint(v, out);
      // Signed formats: a non-negative value is an unsigned integer, as
      // the full decoder reads it.
      case 0xd0:
        return big_endian(1, &v) && signed_int(static_cast<int8_t>(v), out);
      case 0xd1:
        return big_endian(2, &v) && signed_int(static_cast<int16_t>(v), out);
      case 0xd2:
        return big_endian(4, &v) && signed_int(static_cast<int32_t>(v), out);
      case 0xd3:
        return big_endian(8, &v) && signed_int(static_cast<int64_t>(v), out);
      case 0xca:
        return skip(4);
      case 0xcb:
        return skip(8);
      case 0xd9:
        return big_endian(1, &v) && str(v, out);
      case 0xda:
        return big_endian(2, &v) && str(v, out);
      case 0xdb:
        return big_endian(4, &v) && str(v, out);
      case 0xc4:  // bin 8, 16, 32
        return big_endian(1, &v) && skip(v);
      case 0xc5:
        return big_endian(2, &v) && skip(v);
      case 0xc6:
        return big_endian(4, &v) && skip(v);
      case 0xd4:  // fixext 1, 2, 4, 8, 16: type byte + data
        return skip(2);
      case 0xd5:
        return skip(3);
      case 0xd6:
        return skip(5);
      case 0xd7:
        return skip(9);
      case 0xd8:
        return skip(17);
      case 0xc7:  // ext 8, 16, 32: length, type byte, data
        return big_endian(1, &v) && skip(v + 1);
      case 0xc8:
        return big_endian(2, &v) && skip(v + 1);
      case 0xc9:
        return big_endian(4, &v) && skip(v + 1);
      default:  // arrays, maps, 0xc1 (never used)
        return false;
    }
  }

 private:
  size_t left() const { return static_cast<size_t>(end_ - p_); }

  template <typename T>
  bool big_endian(size_t bytes, T* out) {
    if (left() < bytes) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = v << 8 | p_[i];
    p_ += bytes;
    *out = static_cast<T>(v);
    return true;
  }
  bool skip(uint64_t bytes) {
    if (left() < bytes) return false;
    p_ += bytes;
    return true;
  }
  static bool uint(uint64_t v, Value* out) {
    out->kind = Scalar::kUint;
    out->uint = v;
    return true;
  }
  static bool signed_int(int64_t v, Value* out) {
    if (v >= 0) return uint(static_cast<uint64_t>(v), out);
    return true;
  }
  bool str(uint64_t size, Value* out) {
    if (left() < size) return false;
    out->kind = Scalar::kStr;
    out->str = std::string_view(reinterpret_cast<const char*>(p_), size);
    p_ += size;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
};

// The keys decode_agent_request knows (a known key given twice is its to
// refuse): the five of a heartbeat, then the others; kUnknown for the rest.
enum Key : unsigned { kV, kType, kSeq, kNode, kInc, kLeaseMs, kAddr, kLabels, kReason, kUnknown };
constexpr unsigned kHeartbeatKeys = kLeaseMs;

// True if `key` is `name` (a literal of N - 1 bytes); the length is checked
// by the caller.
template <size_t N>
bool is(std::string_view key, const char (&name)[N]) {
  return std::memcmp(key.data(), name, N - 1) == 0;
}

Key key_of(std::string_view key) {
  switch (key.size()) {
    case 1:
      return key[0] == 'v' ? kV : kUnknown;
    case 3:
      return is(key, "seq") ? kSeq : is(key, "inc") ? kInc : kUnknown;
    case 4:
      return is(key, "type") ? kType : is(key, "node") ? kNode : is(key, "addr") ? kAddr : kUnknown;
    case 6:
      return is(key, "labels") ? kLabels : is(key, "reason") ? kReason : kUnknown;
    case 8:
      return is(key, "lease_ms") ? kLeaseMs : kUnknown;
    default:
      return kUnknown;
  }
}

// Bytes allowed in a node id: [A-Za-z0-9._:-] (is_valid_node_id, by table).
struct IdBytes {
  bool allowed[256] = {};
  constexpr IdBytes() {
    for (int c = 'a'; c <= 'z'; ++c) allowed[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) allowed[c] = true;
    for (int c = '0'; c <= '9'; ++c) allowed[c] = true;
    for (char c : {'.', '_', ':', '-'}) allowed[static_cast<unsigned char>(c)] = true;
  }
};
constexpr IdBytes kIdBytes;

bool valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxNodeIdBytes) return false;
  bool ok = true;
  for (char c : id) ok &= kIdBytes.allowed[static_cast<unsigned char>(c)];
  return ok;
}

}  // namespace

bool decode_heartbeat_ref(std::string_view body, HeartbeatRef* out) {
  if (body.empty() || body.size() > kMaxBodyBytes) return false;
  Scanner in(body);
  uint32_t pairs = 0;
  if (!in.map_header(&pairs)) return false;
  Value values[kHeartbeatKeys];
  unsigned seen = 0;  // bit i: known key i was given
  for (uint32_t i = 0; i < pairs; ++i) {
    Value key;
    if (!in.scalar(&key) || key.kind != Scalar::kStr) return false;
    const Key known = key_of(key.str);
    if (known != kUnknown) {
      if (seen & (1u << known)) return false;
      seen |= 1u << known;
    }
    Value value;
    if (!in.scalar(&value)) return false;
    if (known < kHeartbeatKeys) values[known] = value;
  }
  if (!in.at_end()) return false;
  constexpr unsigned kRequired = (1u << kV) | (1u << kType) | (1u << kSeq) | (1u << kNode) |
                                 (1u << kInc);
  if ((seen & kRequired) != kRequired) return false;
  if (values[kV].kind != Scalar::kUint || values[kV].uint != kProtocolVersion) return false;
  if (values[kType].kind != Scalar::kStr || values[kType].str != "heartbeat") return false;
  if (values[kNode].kind != Scalar::kStr || !valid_node_id(values[kNode].str)) return false;
  if (values[kInc].kind != Scalar::kUint || values[kSeq].kind != Scalar::kUint) return false;
  out->node = values[kNode].str;
  out->inc = values[kInc].uint;
  out->seq = values[kSeq].uint;
  return true;
}

namespace {

// Appends msgpack's shortest encoding of `v` (as msgpack-cxx's pack_uint64).
char* put_uint(char* p, uint64_t v) {
  auto put_be = [&p](uint64_t x, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) *p++ = static_cast<char>(x >> (8 * i));
  };
  if (v < 0x80) {
    *p++ = static_cast<char>(v);
  } else if (v <= 0xff) {
    *p++ = static_cast<char>(0xcc);
    put_be(v, 1);
  } else if (v <= 0xffff) {
    *p++ = static_cast<char>(0xcd);
    put_be(v, 2);
  } else if (v <= 0xffffffffu) {
    *p++ = static_cast<char>(0xce);
    put_be(v, 4);
  } else {
    *p++ = static_cast<char>(0xcf);
    put_be(v, 8);
  }
  return p;
}

// Appends a fixstr (at most 31 bytes).
char* put_str(char* p, std::string_view s) {
  *p++ = static_cast<char>(0xa0 | s.size());
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

}  // namespace

size_t encode_ack(const Ack& ack, char (&out)[kMaxAckBytes]) {
  // {v: 1, type: ack, seq, epoch, lease_ms, state}: at most 73 bytes.
  static constexpr char kHead[] = "\x86\xa1v\x01\xa4type\xa3\x61\x63\x6b";
  char* p = out;
  std::memcpy(p, kHead, sizeof kHead - 1);
  p += sizeof kHead - 1;
  p = put_uint(put_str(p, "seq"), ack.seq);
  p = put_uint(put_str(p, "epoch"), ack.epoch);
  p = put_uint(put_str(p, "lease_ms"), ack.lease_ms);
  p = put_str(put_str(p, "state"), to_string(ack.state));
  return static_cast<size_t>(p - out);
}

}  // namespace roster
