#include "codec_reader.h"

#include <algorithm>
#include <msgpack.hpp>

#include "roster/enum_names.h"
#include "roster/utf8.h"

namespace roster::codec {

namespace {

// Upper bound of any max_depth: the visitor's stack of open containers.
// The deepest schema needs 4 (snapshot > nodes > record > labels).
constexpr size_t kDepthLimit = 8;
// Limit on the entries of a stats count map, and on their key length.
constexpr size_t kMaxCounts = 1024;
constexpr size_t kMaxCountNameBytes = 64;

// A msgpack-cxx parse visitor that appends tokens and refuses anything over
// the limits by returning false (which stops the parser at once).
class TokenVisitor : public msgpack::null_visitor {
 public:
  TokenVisitor(std::vector<Token>* tokens, size_t body_size, size_t max_depth)
      : tokens_(tokens), body_size_(body_size), max_depth_(max_depth) {}

  bool visit_nil() { return scalar(Kind::kNil, 0); }
  bool visit_boolean(bool v) { return scalar(Kind::kBool, v ? 1 : 0); }
  bool visit_positive_integer(uint64_t v) { return scalar(Kind::kUint, v); }
  // msgpack-cxx reports every signed format here, even a non-negative
  // value (0xd0 0x05): that one is an unsigned integer in a wider coat.
  bool visit_negative_integer(int64_t v) {
    return v >= 0 ? scalar(Kind::kUint, static_cast<uint64_t>(v)) : scalar(Kind::kNegInt, 0);
  }
  bool visit_float32(float) { return scalar(Kind::kFloat, 0); }
  bool visit_float64(double) { return scalar(Kind::kFloat, 0); }
  bool visit_str(const char* v, uint32_t size) { return bytes(Kind::kStr, v, size); }
  bool visit_bin(const char* v, uint32_t size) { return bytes(Kind::kBin, v, size); }
  bool visit_ext(const char* v, uint32_t size) { return bytes(Kind::kExt, v, size); }
  bool start_array(uint32_t n) { return open(Kind::kArray, n, n); }
  bool end_array() { return close(); }
  bool start_map(uint32_t n) { return open(Kind::kMap, n, 2 * static_cast<uint64_t>(n)); }
  bool end_map() { return close(); }

  void parse_error(size_t, size_t error_offset) {
    error_ = "not msgpack: invalid byte at offset " + std::to_string(error_offset);
  }
  void insufficient_bytes(size_t, size_t) {
    if (error_.empty()) error_ = "not msgpack: truncated body";
  }

  const std::string& error() const { return error_; }

 private:
  bool scalar(Kind kind, uint64_t v) {
    Token t;
    t.kind = kind;
    t.uint = v;
    t.end = static_cast<uint32_t>(tokens_->size() + 1);
    tokens_->push_back(t);
    return true;
  }

  bool bytes(Kind kind, const char* data, uint32_t size) {
    Token t;
    t.kind = kind;
    t.size = size;
    t.data = data;
    t.end = static_cast<uint32_t>(tokens_->size() + 1);
    tokens_->push_back(t);
    return true;
  }

  // Each declared element takes at least one byte, so a body of n bytes
  // holds fewer than n elements in all: a bigger header is a lie.
  bool open(Kind kind, uint32_t size, uint64_t elements) {
    if (depth_ >= max_depth_) {
      error_ = "nesting deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    declared_ += elements;
    if (declared_ > body_size_) {
      error_ = std::string(kind == Kind::kArray ? "array" : "map") + " header declares " +
               std::to_string(size) + (kind == Kind::kArray ? " elements" : " pairs") +
               " that cannot fit in a body of " + std::to_string(body_size_) + " bytes";
      return false;
    }
    Token t;
    t.kind = kind;
    t.size = size;
    open_[depth_++] = static_cast<uint32_t>(tokens_->size());
    tokens_->push_back(t);
    return true;
  }

  bool close() {
    (*tokens_)[open_[--depth_]].end = static_cast<uint32_t>(tokens_->size());
    return true;
  }

  std::vector<Token>* tokens_;
  size_t body_size_;
  size_t max_depth_;
  size_t depth_ = 0;
  uint64_t declared_ = 0;
  uint32_t open_[kDepthLimit] = {};
  std::string error_;
};

// True when a key that collides with an earlier one may owe the collision
// to U+FFFD repair (this key was repaired, or an earlier key was and this
// one holds U+FFFD): then the first is kept. Keys equal on the wire are
// refused as given twice.
bool clash_may_come_from_repair(const std::string& key, bool key_repaired,
                                bool earlier_keys_repaired) {
  static constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD
  return key_repaired || (earlier_keys_repaired && key.find(kReplacement) != std::string::npos);
}

}  // namespace

std::string_view describe(Kind kind) {
  static constexpr std::string_view kDescriptions[] = {
      "nil",      "a boolean",   "an unsigned integer", "a negative integer", "a float",
      "a string", "binary data", "an extension value",  "an array",           "a map",
  };
  return enum_name(kind, kDescriptions, std::string_view("an unknown value"));
}

std::string quote(std::string_view text) {
  constexpr size_t kMaxQuoted = 32;
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMaxQuoted; ++i) {
    char c = text[i];
    out += (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  if (text.size() > kMaxQuoted) out += "...";
  out += "'";
  return out;
}

bool tokenize(std::string_view body, size_t max_body, size_t max_depth, std::vector<Token>* tokens,
              std::string* error) {
  tokens->clear();
  if (body.size() > max_body) {
    *error = "body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
             std::to_string(max_body) + " bytes";
    return false;
  }
  if (body.empty()) {
    *error = "not msgpack: empty body";
    return false;
  }
  TokenVisitor visitor(tokens, body.size(), std::min(max_depth, kDepthLimit));
  size_t offset = 0;
  bool parsed = msgpack::parse(body.data(), body.size(), offset, visitor);
  if (!parsed) {
    *error = visitor.error().empty() ? "not msgpack" : visitor.error();
    return false;
  }
  if (tokens->empty() || tokens->front().kind != Kind::kMap) {
    *error = "body is not a msgpack map (it is " +
             std::string(describe(tokens->empty() ? Kind::kNil : tokens->front().kind)) + ")";
    return false;
  }
  if (offset != body.size()) {
    *error = std::to_string(body.size() - offset) + " trailing bytes after the map";
    return false;
  }
  return true;
}

bool Reader::fail(std::string_view name, std::string_view problem, ErrorCode code) {
  if (failed_) return false;
  failed_ = true;
  code_ = code;
  message_ = "field '";
  if (in_record_) {
    message_.append(array_name_);
    message_ += '[';
    message_ += std::to_string(array_index_);
    message_ += "].";
  }
  message_.append(name);
  message_ += "': ";
  message_.append(problem);
  return false;
}

bool Reader::fail_body(std::string_view problem) {
  if (failed_) return false;
  failed_ = true;
  code_ = ErrorCode::kBadRequest;
  message_.assign(problem);
  return false;
}

bool Reader::mistyped(std::string_view name, std::string_view expected, Slot slot) {
  std::string problem = "expected ";
  problem.append(expected);
  problem += ", got ";
  problem.append(describe(tokens_[slot].kind));
  return fail(name, problem);
}

bool Reader::collect(Slot map, const std::string_view* names, size_t count, Slot* slots) {
  for (size_t i = 0; i < count; ++i) slots[i] = kAbsent;
  const Token& m = tokens_[map];
  Slot key = map + 1;
  for (uint32_t pair = 0; pair < m.size; ++pair) {
    const Token& k = tokens_[key];
    Slot value = k.end;
    if (k.kind != Kind::kStr) {
      std::string problem = "map key is " + std::string(describe(k.kind)) + ", expected a string";
      return in_record_ ? fail("key", problem) : fail_body(problem);
    }
    std::string_view name = k.str();
    for (size_t i = 0; i < count; ++i) {
      // Length and first byte first: most keys differ there, without a memcmp call.
      if (names[i].size() != name.size() || names[i].front() != name.front()) continue;
      if (names[i] != name) continue;
      if (slots[i] != kAbsent) return fail(names[i], "given twice");
      slots[i] = value;
      break;
    }
    key = tokens_[value].end;
  }
  return true;
}

bool Reader::text(std::string_view name, std::string_view what, std::string_view subject,
                  std::string_view raw, std::string* out, bool* replaced) {
  if (replaced != nullptr) *replaced = false;
  const size_t valid = utf8_valid_prefix(raw);
  if (valid == raw.size()) {
    out->assign(raw);
    return true;
  }
  if (utf8_ == Utf8Policy::kRefuse) {
    std::string problem(what);
    if (!subject.empty()) problem += " " + quote(subject);
    problem += " is not valid UTF-8 (ill-formed sequence at byte " + std::to_string(valid) + ")";
    return fail(name, problem);
  }
  *out = replace_invalid_utf8(raw);
  ++replaced_strings_;
  if (replaced != nullptr) *replaced = true;
  return true;
}

bool Reader::uint_field(Slot slot, std::string_view name, bool required, uint64_t* out) {
  if (slot == kAbsent) return required ? fail(name, "missing") : true;
  const Token& t = tokens_[slot];
  if (t.kind != Kind::kUint) return mistyped(name, "an unsigned integer", slot);
  *out = t.uint;
  return true;
}

bool Reader::bool_field(Slot slot, std::string_view name, bool required, bool* out) {
  if (slot == kAbsent) return required ? fail(name, "missing") : true;
  const Token& t = tokens_[slot];
  if (t.kind != Kind::kBool) return mistyped(name, "a boolean", slot);
  *out = t.uint != 0;
  return true;
}

bool Reader::str_view_field(Slot slot, std::string_view name, std::string_view* out) {
  if (slot == kAbsent) return fail(name, "missing");
  const Token& t = tokens_[slot];
  if (t.kind != Kind::kStr) return mistyped(name, "a string", slot);
  *out = t.str();
  return true;
}

bool Reader::str_field(Slot slot, std::string_view name, bool required, size_t max_bytes,
                       std::string* out) {
  if (slot == kAbsent) return required ? fail(name, "missing") : true;
  std::string_view s;
  if (!str_view_field(slot, name, &s)) return false;
  if (s.size() > max_bytes) {
    return fail(name, "longer than " + std::to_string(max_bytes) + " bytes");
  }
  return text(name, "value", {}, s, out);
}

bool Reader::node_id_field(Slot slot, std::string_view name, std::string* out) {
  std::string_view s;
  if (!str_view_field(slot, name, &s)) return false;
  if (s.empty()) return fail(name, "empty node id");
  if (s.size() > kMaxNodeIdBytes) {
    return fail(name, "node id longer than " + std::to_string(kMaxNodeIdBytes) + " bytes");
  }
  if (!is_valid_node_id(s)) return fail(name, "node id has a character outside [A-Za-z0-9._:-]");
  out->assign(s);
  return true;
}

bool Reader::state_field(Slot slot, std::string_view name, NodeState* out) {
  std::string_view s;
  if (!str_view_field(slot, name, &s)) return false;
  std::optional<NodeState> state = node_state_from_string(s);
  if (!state) return fail(name, "unknown state " + quote(s));
  *out = *state;
  return true;
}

bool Reader::code_field(Slot slot, std::string_view name, ErrorCode* out) {
  std::string_view s;
  if (!str_view_field(slot, name, &s)) return false;
  // A code added after this version is still a refusal.
  *out = error_code_from_string(s).value_or(ErrorCode::kUnrecognized);
  return true;
}

bool Reader::labels_field(Slot slot, std::string_view name, bool required, Labels* out) {
  if (slot == kAbsent) return required ? fail(name, "missing") : true;
  const Token& m = tokens_[slot];
  if (m.kind != Kind::kMap) return mistyped(name, "a map", slot);
  if (m.size > kMaxLabels) {
    return fail(name, "more than " + std::to_string(kMaxLabels) + " labels");
  }
  out->clear();
  bool keys_repaired = false;  // an earlier key needed U+FFFD
  Slot key = slot + 1;
  for (uint32_t pair = 0; pair < m.size; ++pair) {
    const Token& k = tokens_[key];
    const Token& v = tokens_[k.end];
    if (k.kind != Kind::kStr) {
      return fail(name, "label key is " + std::string(describe(k.kind)) + ", expected a string");
    }
    if (k.size == 0 || k.size > kMaxLabelKeyBytes) {
      return fail(name, "label key not 1.." + std::to_string(kMaxLabelKeyBytes) + " bytes");
    }
    if (v.kind != Kind::kStr) {
      return fail(name, "value of label " + quote(k.str()) + " is " +
                            std::string(describe(v.kind)) + ", expected a string");
    }
    if (v.size > kMaxLabelValueBytes) {
      return fail(name, "value of label " + quote(k.str()) + " longer than " +
                            std::to_string(kMaxLabelValueBytes) + " bytes");
    }
    std::string key_text;
    std::string value_text;
    bool key_replaced = false;
    bool value_replaced = false;
    if (!text(name, "label key", k.str(), k.str(), &key_text, &key_replaced) ||
        !text(name, "value of label", k.str(), v.str(), &value_text, &value_replaced)) {
      return false;
    }
    const bool excused = clash_may_come_from_repair(key_text, key_replaced, keys_repaired);
    keys_repaired = keys_repaired || key_replaced;
    // Encoders write keys in order, so the end is the right place to insert.
    size_t before = out->size();
    out->emplace_hint(out->end(), std::move(key_text), std::move(value_text));
    if (out->size() == before && !excused) {
      return fail(name, "label " + quote(k.str()) + " given twice");
    }
    key = v.end;
  }
  return true;
}

bool Reader::counts_field(Slot slot, std::string_view name, bool required,
                          std::map<std::string, uint64_t>* out) {
  if (slot == kAbsent) return required ? fail(name, "missing") : true;
  const Token& m = tokens_[slot];
  if (m.kind != Kind::kMap) return mistyped(name, "a map", slot);
  if (m.size > kMaxCounts) {
    return fail(name, "more than " + std::to_string(kMaxCounts) + " entries");
  }
  out->clear();
  bool keys_repaired = false;  // an earlier key needed U+FFFD
  Slot key = slot + 1;
  for (uint32_t pair = 0; pair < m.size; ++pair) {
    const Token& k = tokens_[key];
    const Token& v = tokens_[k.end];
    if (k.kind != Kind::kStr || k.size == 0 || k.size > kMaxCountNameBytes) {
      return fail(name,
                  "key is not a string of 1.." + std::to_string(kMaxCountNameBytes) + " bytes");
    }
    if (v.kind != Kind::kUint) {
      return fail(name, "value of " + quote(k.str()) + " is " + std::string(describe(v.kind)) +
                            ", expected an unsigned integer");
    }
    std::string key_text;
    bool key_replaced = false;
    if (!text(name, "key", k.str(), k.str(), &key_text, &key_replaced)) return false;
    const bool excused = clash_may_come_from_repair(key_text, key_replaced, keys_repaired);
    keys_repaired = keys_repaired || key_replaced;
    size_t before = out->size();
    out->emplace_hint(out->end(), std::move(key_text), v.uint);
    if (out->size() == before && !excused) {
      return fail(name, "key " + quote(k.str()) + " given twice");
    }
    key = v.end;
  }
  return true;
}

bool Reader::record(Slot map, Removed removed, NodeRecord* out) {
  static constexpr std::string_view kNames[] = {"node",   "inc",      "state",   "addr",
                                                "labels", "lease_ms", "since_ms"};
  enum { kNode, kInc, kState, kAddr, kLabels, kLeaseMs, kSinceMs, kCount };
  Slot s[kCount];
  if (!collect(map, kNames, kCount, s)) return false;
  if (!node_id_field(s[kNode], "node", &out->node)) return false;
  if (!uint_field(s[kInc], "inc", true, &out->inc)) return false;
  if (!state_field(s[kState], "state", &out->state)) return false;
  if (out->state == NodeState::kRemoved) {
    // A node present in a snapshot cannot be removed.
    if (removed == Removed::kRefused) return fail("state", "'removed' is valid only in a delta");
    // A removed record carries only node, inc and state.
    return true;
  }
  if (!str_field(s[kAddr], "addr", false, kMaxAddrBytes, &out->addr)) return false;
  if (!labels_field(s[kLabels], "labels", false, &out->labels)) return false;
  if (!uint_field(s[kLeaseMs], "lease_ms", true, &out->lease_ms)) return false;
  return uint_field(s[kSinceMs], "since_ms", true, &out->since_ms);
}

bool Reader::records_field(Slot slot, std::string_view name, Removed removed,
                           std::vector<NodeRecord>* out) {
  if (slot == kAbsent) return fail(name, "missing");
  const Token& a = tokens_[slot];
  if (a.kind != Kind::kArray) return mistyped(name, "an array", slot);
  out->clear();
  out->reserve(std::min<size_t>(a.size, 1024));  // grows with records actually read
  Slot element = slot + 1;
  for (uint32_t i = 0; i < a.size; ++i) {
    in_record_ = false;
    if (tokens_[element].kind != Kind::kMap) {
      return mistyped(std::string(name) + "[" + std::to_string(i) + "]", "a map", element);
    }
    in_record_ = true;
    array_name_ = name;
    array_index_ = i;
    if (!record(element, removed, &out->emplace_back())) return false;
    element = tokens_[element].end;
  }
  in_record_ = false;
  return true;
}

bool Reader::version_field(Slot slot) {
  uint64_t v = 0;
  if (!uint_field(slot, "v", true, &v)) return false;
  if (v != kProtocolVersion) {
    return fail("v",
                "protocol version " + std::to_string(v) + " is not supported (expected " +
                    std::to_string(kProtocolVersion) + ")",
                ErrorCode::kUnsupportedVersion);
  }
  return true;
}

}  // namespace roster::codec
