// A fast reader of the broker's ack on the agent channel, for a load
// generator that reads hundreds of thousands of them per second: it reads
// only the flat msgpack map of an ack (PROTOCOL.md) and the fields a load
// generator needs, allocating nothing. Anything else (an error reply, a
// nested value, an unknown encoding) is left to roster::decode_agent_reply.
#pragma once

#include <cstdint>
#include <string_view>

namespace roster::bench {

// The fields of an ack a load generator uses.
struct FastAck {
  uint64_t seq = 0;
  uint64_t lease_ms = 0;
  bool alive = false;  // "state" is "alive"
};

// Reads `body` as an ack: true, with *ack filled, when it is a flat
// msgpack map whose "type" is "ack" and that holds "seq" and "state";
// false otherwise (the caller then decodes it in full).
bool read_fast_ack(std::string_view body, FastAck* ack);

}  // namespace roster::bench
