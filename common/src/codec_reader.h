// Internal to the codec: the two halves of every decoder.
//
// tokenize() runs msgpack-cxx's parser with a visitor that enforces the
// structural limits (body size, nesting depth, declared sizes that cannot fit
// in the bytes left) and records a flat list of tokens pointing into the
// body. Nothing is allocated in proportion to a declared size.
//
// Reader then reads typed fields out of the tokens and produces errors that
// name the field and the problem. Errors are values; nothing here throws
// except std::bad_alloc, which the decoders catch.
//
// Thread safety: none; one decoder call owns its tokens and its Reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "roster/codec.h"
#include "roster/protocol.h"

namespace roster::codec {

// The msgpack type of one token.
enum class Kind : uint8_t {
  kNil,
  kBool,
  kUint,
  kNegInt,
  kFloat,
  kStr,
  kBin,
  kExt,
  kArray,
  kMap,
};

// Returns e.g. "an unsigned integer", for error messages.
std::string_view describe(Kind kind);

// Returns `text` in single quotes for an error message: at most 32 bytes,
// bytes outside printable ASCII replaced by '?'.
std::string quote(std::string_view text);

// One msgpack value. Containers are followed by their elements (a map by
// key, value, key, value, ...); `end` skips the whole subtree.
struct Token {
  union {
    uint64_t uint = 0;  // value of a kUint, 0/1 for a kBool
    const char* data;   // bytes of a str/bin/ext, inside the body
  };
  uint32_t size = 0;  // bytes of a str/bin/ext, elements of an array, pairs of a map
  uint32_t end = 0;   // index one past the last token of this value
  Kind kind = Kind::kNil;

  std::string_view str() const { return {data, size}; }
};

// Parses `body` into `tokens`. Returns true on success; otherwise sets
// `error` to the reason. Refuses bodies over `max_body` bytes, containers
// nested deeper than `max_depth`, anything but exactly one msgpack value,
// and size headers that cannot fit in the body. A body of n bytes holds at
// most n values, so `tokens` never grows beyond n entries.
bool tokenize(std::string_view body, size_t max_body, size_t max_depth, std::vector<Token>* tokens,
              std::string* error);

// Index of a token; kAbsent when a field is not in the map.
using Slot = uint32_t;
inline constexpr Slot kAbsent = UINT32_MAX;

// What a Reader does with a free-text string (addr, label, reason, error
// message, count name) that is not well-formed UTF-8 (utf8.h).
enum class Utf8Policy : uint8_t {
  // Untrusted input (requests to the broker): the body is refused with
  // bad_request naming the field.
  kRefuse,
  // Broker output (replies, state channel): each ill-formed sequence becomes
  // U+FFFD and the string is counted (replaced_strings()), so that a client
  // keeps its view of a buggy or hostile broker and can say so.
  kReplace,
};

// Reads typed fields from tokens. Every getter returns false after recording
// the first error; later calls keep the first error.
class Reader {
 public:
  Reader(const std::vector<Token>& tokens, Utf8Policy utf8) : tokens_(tokens), utf8_(utf8) {}

  const Token& at(Slot slot) const { return tokens_[slot]; }

  // Finds the values of the `count` keys `names` in the map at `map` and
  // stores their indexes in `slots` (kAbsent when missing). Unknown keys are
  // ignored. Fails on a non-string key or a known key given twice.
  bool collect(Slot map, const std::string_view* names, size_t count, Slot* slots);

  // Required or optional fields: a missing required field fails; a missing
  // optional one leaves *out unchanged. `name` is used in error messages.
  bool uint_field(Slot slot, std::string_view name, bool required, uint64_t* out);
  bool bool_field(Slot slot, std::string_view name, bool required, bool* out);
  // A UTF-8 string of at most max_bytes bytes (checked before replacement).
  bool str_field(Slot slot, std::string_view name, bool required, size_t max_bytes,
                 std::string* out);

  // Required fields. The view points into the body.
  bool str_view_field(Slot slot, std::string_view name, std::string_view* out);
  // A valid node id (is_valid_node_id).
  bool node_id_field(Slot slot, std::string_view name, std::string* out);
  // A known wire spelling of a NodeState.
  bool state_field(Slot slot, std::string_view name, NodeState* out);
  // A string naming an ErrorCode; one this version does not know reads as
  // kUnrecognized (a refusal all the same).
  bool code_field(Slot slot, std::string_view name, ErrorCode* out);
  // At most kMaxLabels labels under the key and value limits, UTF-8. Under
  // kReplace, a key that becomes equal to an earlier one by replacement is
  // dropped (counted as replaced) rather than refusing the body.
  bool labels_field(Slot slot, std::string_view name, bool required, Labels* out);
  // A map of UTF-8 name -> unsigned count (stats), keys as in labels_field.
  bool counts_field(Slot slot, std::string_view name, bool required,
                    std::map<std::string, uint64_t>* out);
  // Whether a record may be `removed`: a snapshot's may not (it holds the
  // nodes present, and a view built from it would hold a removed node).
  enum class Removed : uint8_t { kAllowed, kRefused };
  // An array of node records; `out` is replaced.
  bool records_field(Slot slot, std::string_view name, Removed removed,
                     std::vector<NodeRecord>* out);
  // The record fields of the map at `map` (also the admin `node` reply).
  bool record(Slot map, Removed removed, NodeRecord* out);

  // Checks "v": missing or mistyped is kBadRequest, another number is
  // kUnsupportedVersion.
  bool version_field(Slot slot);

  // Records an error about `name` (prefixed by the current record's path)
  // and returns false.
  bool fail(std::string_view name, std::string_view problem,
            ErrorCode code = ErrorCode::kBadRequest);
  // Records an error about the whole body and returns false.
  bool fail_body(std::string_view problem);
  bool failed() const { return failed_; }
  // Strings in which ill-formed UTF-8 was replaced (kReplace only).
  size_t replaced_strings() const { return replaced_strings_; }

  // The seq echoed in errors once known.
  void set_seq(uint64_t seq) { seq_ = seq; }
  // REQUIRES: failed()
  DecodeError error() const { return DecodeError{code_, message_, seq_}; }

 private:
  bool mistyped(std::string_view name, std::string_view expected, Slot slot);
  // Stores `raw`, free text read for field `name`, in *out under the UTF-8
  // policy; sets *replaced (when given) if it had to be replaced. An error
  // describes it as `what`, followed by `subject` quoted unless empty.
  bool text(std::string_view name, std::string_view what, std::string_view subject,
            std::string_view raw, std::string* out, bool* replaced = nullptr);

  const std::vector<Token>& tokens_;
  const Utf8Policy utf8_;
  size_t replaced_strings_ = 0;
  bool failed_ = false;
  ErrorCode code_ = ErrorCode::kBadRequest;
  std::string message_;
  uint64_t seq_ = 0;
  // Path of the record being read, e.g. "nodes[3].", for error messages.
  std::string_view array_name_;
  size_t array_index_ = 0;
  bool in_record_ = false;
};

}  // namespace roster::codec
