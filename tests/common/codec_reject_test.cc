// One test per rejection rule of the decoders, named after the bad input
// (the simple agent request rules as cases of one table).
// Bodies are built field by field so that each test changes one thing in an
// otherwise valid message.
#include <gtest/gtest.h>

#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "roster/codec.h"

namespace roster {
namespace {

// --- A small msgpack builder: values are encoded msgpack fragments. -------

class Sink {
 public:
  void write(const char* data, size_t size) { out.append(data, size); }
  std::string out;
};

template <typename F>
std::string packed(F&& f) {
  Sink sink;
  msgpack::packer<Sink> pk(sink);
  f(pk);
  return sink.out;
}

std::string u(uint64_t v) {
  return packed([&](auto& pk) { pk.pack_uint64(v); });
}
std::string neg(int64_t v) {
  return packed([&](auto& pk) { pk.pack_int64(v); });
}
std::string f64(double v) {
  return packed([&](auto& pk) { pk.pack_double(v); });
}
std::string s(std::string_view v) {
  return packed([&](auto& pk) {
    pk.pack_str(static_cast<uint32_t>(v.size()));
    pk.pack_str_body(v.data(), static_cast<uint32_t>(v.size()));
  });
}
std::string bin(std::string_view v) {
  return packed([&](auto& pk) {
    pk.pack_bin(static_cast<uint32_t>(v.size()));
    pk.pack_bin_body(v.data(), static_cast<uint32_t>(v.size()));
  });
}
std::string nil() {
  return "\xc0";
}

// A map from raw (already encoded) keys and values, in order.
using RawPairs = std::vector<std::pair<std::string, std::string>>;
std::string raw_map(const RawPairs& pairs) {
  std::string out = packed([&](auto& pk) { pk.pack_map(static_cast<uint32_t>(pairs.size())); });
  for (const auto& [k, v] : pairs) out += k + v;
  return out;
}
std::string arr(const std::vector<std::string>& items) {
  std::string out = packed([&](auto& pk) { pk.pack_array(static_cast<uint32_t>(items.size())); });
  for (const auto& item : items) out += item;
  return out;
}

// A body: string keys with encoded values, in order.
class Fields {
 public:
  Fields(std::initializer_list<std::pair<std::string, std::string>> fields) : f_(fields) {}
  // Replaces the value of `key`, or appends it.
  Fields& set(const std::string& key, std::string value) {
    for (auto& [k, v] : f_) {
      if (k == key) {
        v = std::move(value);
        return *this;
      }
    }
    f_.emplace_back(key, std::move(value));
    return *this;
  }
  Fields& erase(const std::string& key) {
    for (auto it = f_.begin(); it != f_.end(); ++it) {
      if (it->first == key) {
        f_.erase(it);
        break;
      }
    }
    return *this;
  }
  // The encoded map.
  std::string str() const {
    RawPairs pairs;
    for (const auto& [k, v] : f_) pairs.emplace_back(s(k), v);
    return raw_map(pairs);
  }
  // The encoded map, valid while this Fields lives (for the decoders).
  operator std::string_view() const {  // NOLINT: implicit by design
    body_ = str();
    return body_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> f_;
  mutable std::string body_;
};

Fields heartbeat() {
  return {{"v", u(1)}, {"type", s("heartbeat")}, {"node", s("n1")}, {"inc", u(5)}, {"seq", u(7)}};
}
Fields join() {
  return {{"v", u(1)},        {"type", s("join")},
          {"node", s("n1")},  {"inc", u(5)},
          {"seq", u(7)},      {"lease_ms", u(3000)},
          {"addr", s("h:1")}, {"labels", raw_map({{s("zone"), s("a")}})}};
}
Fields leave() {
  return {{"v", u(1)}, {"type", s("leave")}, {"node", s("n1")}, {"inc", u(5)}, {"seq", u(7)}};
}
std::string record_map(const std::string& node) {
  return Fields{{"node", s(node)},  {"inc", u(1)},           {"state", s("alive")},
                {"addr", s("h:1")}, {"labels", raw_map({})}, {"lease_ms", u(1000)},
                {"since_ms", u(5)}}
      .str();
}
Fields snapshot(std::vector<std::string> nodes) {
  return {{"v", u(1)},          {"type", s("snapshot")}, {"epoch", u(1)},      {"version", u(2)},
          {"complete", "\xc3"}, {"time_ms", u(3)},       {"nodes", arr(nodes)}};
}
Fields delta(std::vector<std::string> changes) {
  return {{"v", u(1)},
          {"type", s("delta")},
          {"epoch", u(1)},
          {"version", u(3)},
          {"prev_version", u(2)},
          {"time_ms", u(3)},
          {"changes", arr(changes)}};
}
Fields beat() {
  return {{"v", u(1)}, {"type", s("beat")}, {"epoch", u(1)}, {"version", u(2)}, {"time_ms", u(3)}};
}

std::string labels_of(size_t count) {
  RawPairs pairs;
  for (size_t i = 0; i < count; ++i) pairs.emplace_back(s("k" + std::to_string(i)), s("v"));
  return raw_map(pairs);
}

// Asserts that `d` is a bad_request whose message contains every `parts`.
template <typename T>
void expect_bad_request(const Decoded<T>& d, const std::vector<std::string_view>& parts) {
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kBadRequest) << d.error().message;
  for (std::string_view part : parts) {
    EXPECT_NE(d.error().message.find(part), std::string::npos)
        << "'" << part << "' not in: " << d.error().message;
  }
}

// --- Sanity: the builder makes valid bodies. ------------------------------

TEST(CodecReject, BuiltBodiesAreValid) {
  EXPECT_TRUE(decode_agent_request(heartbeat()).ok());
  EXPECT_TRUE(decode_agent_request(join()).ok());
  EXPECT_TRUE(decode_agent_request(leave()).ok());
  EXPECT_TRUE(decode_snapshot(snapshot({record_map("a")})).ok());
  EXPECT_TRUE(decode_delta(delta({record_map("a")})).ok());
  EXPECT_TRUE(decode_beat(beat()).ok());
}

// --- Agent requests refused with bad_request, one rule a case. -----------

// A body the agent request decoder refuses with bad_request, and the parts
// its message must contain.
struct Refusal {
  const char* name;
  std::string body;
  std::vector<std::string_view> parts;
};

std::vector<Refusal> agent_request_refusals() {
  return {
      // Not one msgpack map
      {"EmptyBody", "", {"empty"}},
      {"JsonText", R"({"v":1,"type":"heartbeat"})", {"not a msgpack map"}},
      // Version and type
      {"MissingVersion", heartbeat().erase("v").str(), {"field 'v'", "missing"}},
      {"MistypedVersion",
       heartbeat().set("v", s("1")).str(),
       {"field 'v'", "expected an unsigned integer, got a string"}},
      {"MissingType", heartbeat().erase("type").str(), {"field 'type'", "missing"}},
      {"MistypedType", heartbeat().set("type", u(1)).str(), {"field 'type'", "expected a string"}},
      // Required fields and their types
      {"MissingNode", heartbeat().erase("node").str(), {"field 'node'", "missing"}},
      {"MistypedNode",
       heartbeat().set("node", bin("n1")).str(),
       {"field 'node'", "got binary data"}},
      {"MissingInc", join().erase("inc").str(), {"field 'inc'", "missing"}},
      {"MistypedInc",
       heartbeat().set("inc", s("5")).str(),
       {"field 'inc'", "expected an unsigned integer, got a string"}},
      {"NegativeInc",
       heartbeat().set("inc", neg(-1)).str(),
       {"field 'inc'", "got a negative integer"}},
      {"FloatInc", heartbeat().set("inc", f64(5.5)).str(), {"field 'inc'", "got a float"}},
      {"Float32Seq",
       heartbeat().set("seq", std::string("\xca\x40\xb0\0\0", 5)).str(),
       {"field 'seq'", "got a float"}},
      {"NilSeq", heartbeat().set("seq", nil()).str(), {"field 'seq'", "got nil"}},
      {"MissingLeaseMs", join().erase("lease_ms").str(), {"field 'lease_ms'", "missing"}},
      // Node ids
      {"EmptyNodeId", heartbeat().set("node", s("")).str(), {"field 'node'", "empty"}},
      // Address, labels, reason
      {"MistypedAddr", join().set("addr", u(80)).str(), {"field 'addr'", "expected a string"}},
      {"MistypedLabels",
       join().set("labels", arr({s("a=b")})).str(),
       {"field 'labels'", "expected a map, got an array"}},
      {"EmptyLabelKey",
       join().set("labels", raw_map({{s(""), s("v")}})).str(),
       {"field 'labels'", "label key not 1..64 bytes"}},
      {"MistypedLabelKey",
       join().set("labels", raw_map({{u(1), s("v")}})).str(),
       {"field 'labels'", "label key is an unsigned integer"}},
      {"MistypedLabelValue",
       join().set("labels", raw_map({{s("k"), u(1)}})).str(),
       {"field 'labels'", "value of label 'k' is an unsigned integer"}},
      {"DuplicateLabelKey",
       join().set("labels", raw_map({{s("k"), s("1")}, {s("k"), s("2")}})).str(),
       {"field 'labels'", "label 'k' given twice"}},
      // Strings that are not UTF-8, in requests: refused
      {"AddrSurrogate",
       join().set("addr", s("\xED\xA0\x80")).str(),
       {"field 'addr'", "not valid UTF-8"}},
      {"AddrAboveU10FFFF",
       join().set("addr", s("\xF4\x90\x80\x80")).str(),
       {"field 'addr'", "not valid UTF-8"}},
      {"AddrTruncatedSequence",
       join().set("addr", s("h:1\xE2\x82")).str(),
       {"field 'addr'", "not valid UTF-8", "at byte 3"}},
      {"LabelKeyNotUtf8",
       join().set("labels", raw_map({{s("z\xff"), s("a")}})).str(),
       {"field 'labels'", "label key 'z?' is not valid UTF-8"}},
      {"LabelValueNotUtf8",
       join().set("labels", raw_map({{s("zone"), s("\xff")}})).str(),
       {"field 'labels'", "value of label 'zone' is not valid UTF-8"}},
      {"ReasonNotUtf8",
       leave().set("reason", s("bye\xfe")).str(),
       {"field 'reason'", "not valid UTF-8"}},
  };
}

class AgentRequestRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(AgentRequestRefusal, IsABadRequestNamingTheRule) {
  expect_bad_request(decode_agent_request(GetParam().body), GetParam().parts);
}

INSTANTIATE_TEST_SUITE_P(CodecReject, AgentRequestRefusal,
                         ::testing::ValuesIn(agent_request_refusals()),
                         [](const ::testing::TestParamInfo<Refusal>& info) {
                           return std::string(info.param.name);
                         });

// --- Not one msgpack map. --------------------------------------------------

TEST(CodecReject, NotMsgpack) {
  expect_bad_request(decode_agent_request("\xc1"), {"not msgpack"});
  expect_bad_request(decode_admin_request("\xc1\x00"), {"not msgpack"});
}

TEST(CodecReject, NotAMap) {
  expect_bad_request(decode_agent_request(arr({u(1), u(2)})), {"not a msgpack map", "array"});
  expect_bad_request(decode_agent_request(u(7)), {"not a msgpack map"});
  expect_bad_request(decode_snapshot(s("snapshot")), {"not a msgpack map", "string"});
}

TEST(CodecReject, TrailingBytes) {
  std::string body = heartbeat().str() + std::string(1, '\0');
  expect_bad_request(decode_agent_request(body), {"1 trailing bytes"});
  expect_bad_request(decode_beat(beat().str() + beat().str()), {"trailing"});
}

TEST(CodecReject, TruncatedBody) {
  std::string body = heartbeat().str();
  for (size_t n = 1; n < body.size(); ++n) {
    auto d = decode_agent_request(body.substr(0, n));
    expect_bad_request(d, {});
    EXPECT_FALSE(d.error().message.empty());
  }
}

TEST(CodecReject, NonStringKey) {
  std::string body = raw_map({{s("v"), u(1)}, {u(3), s("x")}, {s("type"), s("heartbeat")}});
  expect_bad_request(decode_agent_request(body), {"map key", "expected a string"});
}

TEST(CodecReject, DuplicateField) {
  std::string body = raw_map({{s("v"), u(1)},
                              {s("type"), s("heartbeat")},
                              {s("node"), s("a")},
                              {s("node"), s("b")},
                              {s("inc"), u(1)},
                              {s("seq"), u(1)}});
  expect_bad_request(decode_agent_request(body), {"field 'node'", "given twice"});
}

// --- Version and type. -----------------------------------------------------

TEST(CodecReject, UnsupportedVersion) {
  auto d = decode_agent_request(heartbeat().set("v", u(2)));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kUnsupportedVersion);
  EXPECT_NE(d.error().message.find("version 2"), std::string::npos) << d.error().message;
  EXPECT_EQ(d.error().seq, 7u);
  for (auto code : {decode_admin_request(Fields{{"v", u(0)}, {"type", s("stats")}}).error().code,
                    decode_beat(beat().set("v", u(99))).error().code,
                    decode_snapshot(snapshot({}).set("v", u(2))).error().code}) {
    EXPECT_EQ(code, ErrorCode::kUnsupportedVersion);
  }
}

TEST(CodecReject, UnknownType) {
  expect_bad_request(decode_agent_request(heartbeat().set("type", s("hello"))),
                     {"field 'type'", "unknown type 'hello'"});
  expect_bad_request(decode_admin_request(Fields{{"v", u(1)}, {"type", s("drop_all")}}),
                     {"field 'type'", "unknown type"});
  expect_bad_request(decode_snapshot(beat()), {"field 'type'", "expected 'snapshot', got 'beat'"});
}

TEST(CodecReject, UnknownTypeIsQuotedSafely) {
  auto d = decode_agent_request(heartbeat().set("type", s(std::string(1000, '\x01'))));
  expect_bad_request(d, {"field 'type'"});
  EXPECT_LT(d.error().message.size(), 200u);
}

// --- Required fields and their types. --------------------------------------

TEST(CodecReject, NonNegativeValueInSignedFormatIsUnsigned) {
  // int8 5 and int64 7: signed formats, but not negative.
  auto d = decode_agent_request(heartbeat()
                                    .set("inc", std::string("\xd0\x05", 2))
                                    .set("seq", std::string("\xd3\0\0\0\0\0\0\0\x07", 9)));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<HeartbeatRequest>(d.value()), (HeartbeatRequest{"n1", 5, 7}));
  expect_bad_request(decode_agent_request(heartbeat().set("inc", std::string("\xd0\xff", 2))),
                     {"field 'inc'", "got a negative integer"});
}

TEST(CodecReject, MissingSeq) {
  auto d = decode_agent_request(leave().erase("seq"));
  expect_bad_request(d, {"field 'seq'", "missing"});
  EXPECT_EQ(d.error().seq, 0u);
}

TEST(CodecReject, ErrorEchoesReadableSeq) {
  auto d = decode_agent_request(join().set("inc", s("x")));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().seq, 7u);
}

// --- Node ids. -------------------------------------------------------------

TEST(CodecReject, NodeIdTooLong) {
  EXPECT_TRUE(decode_agent_request(heartbeat().set("node", s(std::string(128, 'a')))).ok());
  expect_bad_request(decode_agent_request(heartbeat().set("node", s(std::string(129, 'a')))),
                     {"field 'node'", "longer than 128 bytes"});
}

TEST(CodecReject, NodeIdBadChar) {
  for (const std::string& bad :
       std::vector<std::string>{"a/b", "a b", "ü", "a\nb", std::string("a\0b", 3), "a,b"}) {
    expect_bad_request(decode_agent_request(heartbeat().set("node", s(bad))),
                       {"field 'node'", "character outside"});
  }
  EXPECT_TRUE(decode_agent_request(heartbeat().set("node", s("Az09._:-"))).ok());
}

// --- Address, labels, reason. ----------------------------------------------

TEST(CodecReject, AddrTooLong) {
  EXPECT_TRUE(decode_agent_request(join().set("addr", s(std::string(256, 'a')))).ok());
  expect_bad_request(decode_agent_request(join().set("addr", s(std::string(257, 'a')))),
                     {"field 'addr'", "longer than 256 bytes"});
}

TEST(CodecReject, TooManyLabels) {
  EXPECT_TRUE(decode_agent_request(join().set("labels", labels_of(32))).ok());
  expect_bad_request(decode_agent_request(join().set("labels", labels_of(33))),
                     {"field 'labels'", "more than 32 labels"});
}

TEST(CodecReject, LabelKeyTooLong) {
  EXPECT_TRUE(
      decode_agent_request(join().set("labels", raw_map({{s(std::string(64, 'k')), s("v")}})))
          .ok());
  expect_bad_request(
      decode_agent_request(join().set("labels", raw_map({{s(std::string(65, 'k')), s("v")}}))),
      {"field 'labels'", "label key not 1..64 bytes"});
}

TEST(CodecReject, LabelValueTooLong) {
  EXPECT_TRUE(
      decode_agent_request(join().set("labels", raw_map({{s("k"), s(std::string(256, 'v'))}})))
          .ok());
  expect_bad_request(
      decode_agent_request(join().set("labels", raw_map({{s("k"), s(std::string(257, 'v'))}}))),
      {"field 'labels'", "value of label 'k' longer than 256 bytes"});
}

TEST(CodecReject, ReasonTooLong) {
  EXPECT_TRUE(decode_agent_request(leave().set("reason", s(std::string(256, 'r')))).ok());
  expect_bad_request(decode_agent_request(leave().set("reason", s(std::string(257, 'r')))),
                     {"field 'reason'", "longer than 256 bytes"});
}

// --- Strings that are not UTF-8, in requests: refused. ----------------------

TEST(CodecReject, AddrNotUtf8) {
  auto d = decode_agent_request(join().set("addr", s("h\xff:1")));
  expect_bad_request(d, {"field 'addr'", "value is not valid UTF-8", "at byte 1"});
  EXPECT_EQ(d.error().seq, 7u);
}

TEST(CodecReject, AddrOverlongSequence) {
  expect_bad_request(decode_agent_request(join().set("addr", s("\xC0\xAF"))),
                     {"field 'addr'", "not valid UTF-8"});
  expect_bad_request(decode_agent_request(join().set("addr", s("\xE0\x80\xAF"))),
                     {"field 'addr'", "not valid UTF-8"});
}

TEST(CodecReject, WellFormedNonAsciiIsAccepted) {
  auto d = decode_agent_request(
      join()
          .set("addr", s("z\xC3\xBCrich:1"))
          .set("labels", raw_map({{s("\xE2\x82\xAC"), s("\xF0\x9F\x98\x80")}})));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<JoinRequest>(d.value()).addr, "z\xC3\xBCrich:1");
}

// --- Hostile size headers, body size, nesting. -----------------------------

TEST(CodecReject, HugeArrayHeader) {
  // A 5-byte body declaring 4 billion elements: refused at once.
  expect_bad_request(decode_agent_request(std::string("\xdd\xff\xff\xff\xff", 5)),
                     {"array header declares 4294967295 elements"});
  expect_bad_request(decode_snapshot(std::string("\xdd\xff\xff\xff\xff", 5)), {"declares"});
  std::string body = snapshot({}).set("nodes", std::string("\xdd\x7f\xff\xff\xff", 5)).str();
  expect_bad_request(decode_snapshot(body), {"array header declares 2147483647 elements"});
}

TEST(CodecReject, HugeMapHeader) {
  expect_bad_request(decode_agent_request(std::string("\xdf\xff\xff\xff\xff", 5)),
                     {"map header declares 4294967295 pairs"});
  std::string body = join().set("labels", std::string("\xdf\x00\x01\x00\x00", 5)).str();
  expect_bad_request(decode_agent_request(body), {"map header declares 65536 pairs"});
}

TEST(CodecReject, HugeStringHeader) {
  // str32 declaring 4 GiB, with 3 bytes of it present.
  std::string body = heartbeat()
                         .set("node", std::string("\xdb\xff\xff\xff\xff"
                                                  "abc",
                                                  8))
                         .str();
  expect_bad_request(decode_agent_request(body), {"not msgpack", "truncated"});
  expect_bad_request(decode_agent_request(std::string("\xdb\xff\xff\xff\xff", 5)), {"truncated"});
}

TEST(CodecReject, HugeBinAndExtHeaders) {
  expect_bad_request(decode_agent_request(std::string("\xc6\xff\xff\xff\xff", 5)), {"not msgpack"});
  expect_bad_request(decode_agent_request(std::string("\xc9\xff\xff\xff\xff\x01", 6)),
                     {"not msgpack"});
  expect_bad_request(decode_agent_request(std::string("\xc9\xff\xff\xff\xfe\x01", 6)),
                     {"not msgpack"});
}

TEST(CodecReject, BodyTooLarge) {
  // Pad with an unknown key so that the body is exactly at, then over, the limit.
  auto padded = [&](size_t total) {
    Fields f = heartbeat();
    std::string base = f.set("pad", s(std::string(1000, 'p'))).str();
    size_t overhead = base.size() - 1000;
    return f.set("pad", s(std::string(total - overhead, 'p'))).str();
  };
  std::string at_limit = padded(kMaxBodyBytes);
  ASSERT_EQ(at_limit.size(), kMaxBodyBytes);
  EXPECT_TRUE(decode_agent_request(at_limit).ok());
  std::string over = padded(kMaxBodyBytes + 1);
  ASSERT_EQ(over.size(), kMaxBodyBytes + 1);
  expect_bad_request(decode_agent_request(over), {"exceeds the limit of 65536 bytes"});
  expect_bad_request(decode_admin_request(over), {"exceeds the limit"});
}

TEST(CodecReject, StateBodiesMayExceedTheRequestLimit) {
  std::vector<std::string> records;
  for (int i = 0; i < 2000; ++i) records.push_back(record_map("node-" + std::to_string(i)));
  std::string body = snapshot(records).str();
  ASSERT_GT(body.size(), kMaxBodyBytes);
  auto d = decode_snapshot(body);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d.value().nodes.size(), 2000u);
}

TEST(CodecReject, NestingTooDeep) {
  // An unknown key may hold a scalar, but nothing deeper than the schema.
  EXPECT_TRUE(decode_agent_request(heartbeat().set("x", u(1))).ok());
  expect_bad_request(decode_agent_request(heartbeat().set("x", arr({arr({})}))),
                     {"nesting deeper than 2 levels"});
  expect_bad_request(
      decode_admin_request(Fields{{"v", u(1)}, {"type", s("stats")}, {"x", arr({})}}),
      {"nesting deeper than 1 levels"});
  std::string deep = "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x90";
  expect_bad_request(decode_snapshot(deep), {"nesting deeper"});
  std::string very_deep(100000, '\x91');
  expect_bad_request(decode_snapshot(very_deep), {"nesting deeper"});
}

TEST(CodecReject, UnknownKeysIgnored) {
  auto d = decode_agent_request(heartbeat().set("future", s("x")).set("n", u(1)).set("m", nil()));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<HeartbeatRequest>(d.value()), (HeartbeatRequest{"n1", 5, 7}));
  EXPECT_TRUE(decode_agent_request(join().set("extra", labels_of(40))).ok());
}

// --- Admin requests. -------------------------------------------------------

TEST(CodecReject, AdminNodeQueryBadNodeId) {
  expect_bad_request(
      decode_admin_request(Fields{{"v", u(1)}, {"type", s("node")}, {"node", s("a b")}}),
      {"field 'node'", "character outside"});
  expect_bad_request(decode_admin_request(Fields{{"v", u(1)}, {"type", s("node")}}),
                     {"field 'node'", "missing"});
}

TEST(CodecReject, AdminRemoveMistypedInc) {
  expect_bad_request(decode_admin_request(Fields{
                         {"v", u(1)}, {"type", s("remove")}, {"node", s("a")}, {"inc", neg(-3)}}),
                     {"field 'inc'", "negative integer"});
}

// --- Replies and the state channel. ----------------------------------------

TEST(CodecReject, AckUnknownState) {
  Fields ack{{"v", u(1)},     {"type", s("ack")},  {"seq", u(1)},
             {"epoch", u(1)}, {"lease_ms", u(10)}, {"state", s("zombie")}};
  auto d = decode_agent_reply(ack);
  expect_bad_request(d, {"field 'state'", "unknown state 'zombie'"});
  EXPECT_EQ(d.error().seq, 1u);
}

TEST(CodecReject, ErrorReplyUnknownCodeIsStillARefusal) {
  // A code added by a later broker must not make the reply unreadable.
  auto d = decode_agent_reply(Fields{
      {"v", u(1)}, {"type", s("error")}, {"seq", u(1)}, {"code", s("teapot")}, {"message", s("")}});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<ErrorReply>(d.value()).code, ErrorCode::kUnrecognized);
}

TEST(CodecReject, ErrorReplyIncHintMistyped) {
  expect_bad_request(decode_agent_reply(Fields{{"v", u(1)},
                                               {"type", s("error")},
                                               {"seq", u(1)},
                                               {"code", s("expired")},
                                               {"message", s("")},
                                               {"inc", s("7")}}),
                     {"field 'inc'"});
}

TEST(CodecReject, RecordBadNodeIdNamesTheRecord) {
  expect_bad_request(decode_snapshot(snapshot({record_map("a"), record_map("b/c")})),
                     {"field 'nodes[1].node'", "character outside"});
}

TEST(CodecReject, RecordNotAMap) {
  expect_bad_request(decode_delta(delta({record_map("a"), u(3)})),
                     {"field 'changes[1]'", "expected a map, got an unsigned integer"});
}

TEST(CodecReject, RecordMissingLease) {
  std::string record =
      Fields{{"node", s("a")}, {"inc", u(1)}, {"state", s("alive")}, {"since_ms", u(1)}}.str();
  expect_bad_request(decode_delta(delta({record})), {"field 'changes[0].lease_ms'", "missing"});
}

TEST(CodecReject, RemovedRecordNeedsOnlyNodeAndInc) {
  std::string record = Fields{{"node", s("a")}, {"inc", u(1)}, {"state", s("removed")}}.str();
  auto d = decode_delta(delta({record}));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d.value().changes[0].state, NodeState::kRemoved);
}

// A snapshot holds the nodes present: a removed record would put a node
// the controller is told is gone into its view (found by fuzz_state_stream).
TEST(CodecReject, SnapshotRemovedRecord) {
  std::string removed = Fields{{"node", s("b")}, {"inc", u(1)}, {"state", s("removed")}}.str();
  expect_bad_request(decode_snapshot(snapshot({record_map("a"), removed})),
                     {"field 'nodes[1].state'", "valid only in a delta"});
  expect_bad_request(decode_admin_reply(snapshot({record_map("b"), removed})),
                     {"field 'nodes[1].state'", "valid only in a delta"});
}

TEST(CodecReject, SnapshotMistypedComplete) {
  expect_bad_request(decode_snapshot(snapshot({}).set("complete", u(1))),
                     {"field 'complete'", "expected a boolean"});
}

TEST(CodecReject, BeatMissingTime) {
  expect_bad_request(decode_beat(beat().erase("time_ms")), {"field 'time_ms'", "missing"});
}

TEST(CodecReject, StatsMistypedCounts) {
  Fields stats{{"v", u(1)},        {"type", s("stats")},
               {"epoch", u(1)},    {"version", u(1)},
               {"nodes", u(0)},    {"by_state", raw_map({})},
               {"messages", u(0)}, {"errors", raw_map({{s("x"), s("y")}})},
               {"uptime_ms", u(1)}};
  expect_bad_request(decode_admin_reply(stats), {"field 'errors'", "expected an unsigned integer"});
}

// --- Strings that are not UTF-8, in broker output: replaced and counted. ----

const std::string kFffd = "\xEF\xBF\xBD";

std::string record_with(const std::string& addr, const std::string& labels) {
  return Fields{{"node", s("a")},   {"inc", u(1)},         {"state", s("alive")}, {"addr", s(addr)},
                {"labels", labels}, {"lease_ms", u(1000)}, {"since_ms", u(5)}}
      .str();
}

TEST(CodecReject, SnapshotAddrNotUtf8IsReplacedAndCounted) {
  auto d = decode_snapshot(snapshot({record_with("h\xff\x1b[2J", raw_map({}))}));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d.value().nodes[0].addr, "h" + kFffd + "\x1b[2J");
  EXPECT_EQ(d.replaced_strings(), 1u);
}

TEST(CodecReject, AdminSnapshotLabelsNotUtf8AreReplacedAndCounted) {
  auto d = decode_admin_reply(
      snapshot({record_with("h:1", raw_map({{s("k\xc3"), s("v\xed\xa0\x80")}}))}));
  ASSERT_TRUE(d.ok()) << d.error().message;
  const Labels& labels = std::get<Snapshot>(d.value()).nodes[0].labels;
  EXPECT_EQ(labels, (Labels{{"k" + kFffd, "v" + kFffd + kFffd + kFffd}}));
  EXPECT_EQ(d.replaced_strings(), 2u);
}

TEST(CodecReject, DeltaWellFormedStringsCountNothing) {
  auto d = decode_delta(delta({record_with("z\xC3\xBCrich", raw_map({{s("k"), s("v")}}))}));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d.replaced_strings(), 0u);
}

TEST(CodecReject, LabelKeysEqualOnlyAfterReplacementKeepTheFirst) {
  auto d = decode_delta(
      delta({record_with("h:1", raw_map({{s("\xfe"), s("1")}, {s("\xff"), s("2")}}))}));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d.value().changes[0].labels, (Labels{{kFffd, "1"}}));
  EXPECT_EQ(d.replaced_strings(), 2u);
  // Keys that are equal on the wire are still refused.
  expect_bad_request(
      decode_delta(delta({record_with("h:1", raw_map({{s("k"), s("1")}, {s("k"), s("2")}}))})),
      {"given twice"});
}

TEST(CodecReject, LabelKeysEqualOnTheWireAfterARepairedKeyAreStillRefused) {
  // A repaired key earlier in the map must not excuse a plain duplicate.
  expect_bad_request(
      decode_delta(delta({record_with(
          "h:1", raw_map({{s("\xfe"), s("1")}, {s("k"), s("2")}, {s("k"), s("3")}}))})),
      {"given twice"});
}

TEST(CodecReject, ErrorReplyMessageNotUtf8IsReplaced) {
  Fields error{{"v", u(1)},
               {"type", s("error")},
               {"seq", u(4)},
               {"code", s("bad_request")},
               {"message", s("no\xff")}};
  auto agent = decode_agent_reply(error);
  ASSERT_TRUE(agent.ok()) << agent.error().message;
  EXPECT_EQ(std::get<ErrorReply>(agent.value()).message, "no" + kFffd);
  EXPECT_EQ(agent.replaced_strings(), 1u);
  auto admin = decode_admin_reply(error);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  EXPECT_EQ(std::get<ErrorReply>(admin.value()).message, "no" + kFffd);
  EXPECT_EQ(admin.replaced_strings(), 1u);
}

TEST(CodecReject, StatsCountNameNotUtf8IsReplaced) {
  Fields stats{{"v", u(1)},        {"type", s("stats")},
               {"epoch", u(1)},    {"version", u(1)},
               {"nodes", u(0)},    {"by_state", raw_map({})},
               {"messages", u(0)}, {"errors", raw_map({{s("x\xff"), u(2)}})},
               {"uptime_ms", u(1)}};
  auto d = decode_admin_reply(stats);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<Stats>(d.value()).errors.count("x" + kFffd), 1u);
  EXPECT_EQ(d.replaced_strings(), 1u);
}

}  // namespace
}  // namespace roster
