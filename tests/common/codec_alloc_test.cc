// Hostile size headers are refused without a large allocation: this test
// binary replaces the global operator new to record the largest single
// allocation made while a decoder runs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>

#include "roster/codec.h"

namespace {

bool g_tracking = false;
size_t g_largest = 0;

void* allocate(size_t size) {
  if (g_tracking && size > g_largest) g_largest = size;
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(size_t size) {
  return allocate(size);
}
void* operator new[](size_t size) {
  return allocate(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}

namespace roster {
namespace {

// The largest single allocation made by `decode(body)`.
template <typename Decode>
size_t largest_allocation(Decode decode, const std::string& body, bool* ok) {
  g_largest = 0;
  g_tracking = true;
  *ok = decode(body).ok();
  g_tracking = false;
  return g_largest;
}

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

TEST(CodecAlloc, HostileHeadersAllocateLittleInEveryDecoder) {
  for (const std::string& body : hostile_bodies()) {
    SCOPED_TRACE("body of " + std::to_string(body.size()) + " bytes");
    bool ok = true;
    EXPECT_LT(largest_allocation(decode_agent_request, body, &ok), kSmall);
    EXPECT_FALSE(ok);
    EXPECT_LT(largest_allocation(decode_admin_request, body, &ok), kSmall);
    EXPECT_FALSE(ok);
    EXPECT_LT(largest_allocation(decode_agent_reply, body, &ok), kSmall);
    EXPECT_FALSE(ok);
    EXPECT_LT(largest_allocation(decode_admin_reply, body, &ok), kSmall);
    EXPECT_FALSE(ok);
    EXPECT_LT(largest_allocation(decode_snapshot, body, &ok), kSmall);
    EXPECT_FALSE(ok);
    EXPECT_LT(largest_allocation(decode_delta, body, &ok), kSmall);
    EXPECT_FALSE(ok);
    EXPECT_LT(largest_allocation(decode_beat, body, &ok), kSmall);
    EXPECT_FALSE(ok);
  }
}

TEST(CodecAlloc, TrackingSeesTheAllocationsOfAValidDecode) {
  JoinRequest join{"n1", 1, 1, 1000, std::string(200, 'a'), {}};
  bool ok = false;
  // The 200-byte addr is copied out of the body: the tracker must see it.
  EXPECT_GE(largest_allocation(decode_agent_request, encode(AgentRequest(join)), &ok), 200u);
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace roster
