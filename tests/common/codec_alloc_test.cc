// Hostile size headers are refused without a large allocation: this test
// binary links the allocation counter to record the largest single
// allocation made while a decoder runs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "roster/codec.h"
#include "support/alloc_counter.h"

namespace roster {
namespace {

// Bodies that declare far more than they hold.
std::vector<std::string> hostile_bodies() {
  const std::string heartbeat_prefix =
      "\x86\xa1v\x01\xa4type\xa9heartbeat\xa4node\xa2n1\xa3inc\x01\xa3seq\x02\xa1x";
  return {
      std::string("\xdd\xff\xff\xff\xff", 5),      // array32 of 4G elements
      std::string("\xdf\xff\xff\xff\xff", 5),      // map32 of 4G pairs
      std::string("\xdb\xff\xff\xff\xff", 5),      // str32 of 4 GiB
      std::string("\xc6\xff\xff\xff\xff", 5),      // bin32 of 4 GiB
      std::string("\xc9\xff\xff\xff\xfe\x01", 6),  // ext32 of 4 GiB
      heartbeat_prefix + std::string("\xdd\x7f\xff\xff\xff", 5),
      heartbeat_prefix + std::string("\xdb\x7f\xff\xff\xff", 5),
      "\x86\xa1v\x01\xa4type\xa8snapshot\xa5nodes" + std::string("\xdd\x00\x10\x00\x00", 5),
  };
}

constexpr size_t kSmall = 64 * 1024;

// Every decoder of the codec, by name; `decode` tells whether it accepted.
struct NamedDecoder {
  const char* name;
  bool (*decode)(const std::string& body);
};

const NamedDecoder kDecoders[] = {
    {"decode_agent_request", [](const std::string& b) { return decode_agent_request(b).ok(); }},
    {"decode_admin_request", [](const std::string& b) { return decode_admin_request(b).ok(); }},
    {"decode_agent_reply", [](const std::string& b) { return decode_agent_reply(b).ok(); }},
    {"decode_admin_reply", [](const std::string& b) { return decode_admin_reply(b).ok(); }},
    {"decode_snapshot", [](const std::string& b) { return decode_snapshot(b).ok(); }},
    {"decode_delta", [](const std::string& b) { return decode_delta(b).ok(); }},
    {"decode_beat", [](const std::string& b) { return decode_beat(b).ok(); }},
};

// The largest single allocation made by `decoder` on `body`; `*ok` is
// whether it accepted.
size_t largest_allocation(const NamedDecoder& decoder, const std::string& body, bool* ok) {
  return testing::record_allocations([&] { *ok = decoder.decode(body); }).largest;
}

TEST(CodecAlloc, HostileHeadersAllocateLittleInEveryDecoder) {
  for (const std::string& body : hostile_bodies()) {
    SCOPED_TRACE("body of " + std::to_string(body.size()) + " bytes");
    for (const NamedDecoder& decoder : kDecoders) {
      SCOPED_TRACE(decoder.name);
      bool ok = true;
      EXPECT_LT(largest_allocation(decoder, body, &ok), kSmall);
      EXPECT_FALSE(ok);
    }
  }
}

TEST(CodecAlloc, TrackingSeesTheAllocationsOfAValidDecode) {
  JoinRequest join{"n1", 1, 1, 1000, std::string(200, 'a'), {}};
  bool ok = false;
  // The 200-byte addr is copied out of the body: the tracker must see it.
  const NamedDecoder& decoder = kDecoders[0];
  ASSERT_STREQ(decoder.name, "decode_agent_request");
  EXPECT_GE(largest_allocation(decoder, encode(AgentRequest(join)), &ok), 200u);
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace roster
