#include "handshake_monitor.h"

#include <atomic>
#include <cstring>
#include <vector>

namespace roster {

namespace {

// Monitors of one process share the inproc namespace of their context;
// a counter keeps their endpoints apart.
std::atomic<uint64_t> next_monitor_id{0};

constexpr int kEvents = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;

}  // namespace

std::string HandshakeFailure::describe() const {
  if (kind == Kind::kRefused) {
    return "authentication failed: the broker at " + endpoint +
           " refused this client's key (ZAP status " + std::to_string(value) +
           "); is its public certificate in the broker's key directory for this endpoint?";
  }
  if (!client_uses_curve) {
    return "authentication failed: the handshake with the broker at " + endpoint +
           " failed (libzmq code " + std::to_string(value) +
           "); the broker probably requires CURVE (give this client --curve-secret and "
           "--broker-key), or the endpoint is not the broker's endpoint of this kind";
  }
  return "authentication failed: the CURVE handshake with the broker at " + endpoint +
         " failed (libzmq code " + std::to_string(value) +
         "); is --broker-key the broker's public certificate, and does the broker use CURVE?";
}

HandshakeMonitor::HandshakeMonitor(zmq::context_t& context, zmq::socket_t& socket,
                                   bool client_uses_curve)
    : monitored_(socket), client_uses_curve_(client_uses_curve) {
  const std::string endpoint =
      "inproc://roster-handshake-monitor-" + std::to_string(next_monitor_id.fetch_add(1));
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), kEvents) != 0) throw zmq::error_t();
  try {
    events_ = zmq::socket_t(context, zmq::socket_type::pair);
    events_.set(zmq::sockopt::linger, 0);
    events_.connect(endpoint);
  } catch (...) {
    zmq_socket_monitor(socket.handle(), nullptr, 0);
    throw;
  }
}

HandshakeMonitor::~HandshakeMonitor() {
  zmq_socket_monitor(monitored_.handle(), nullptr, 0);
}

std::optional<HandshakeFailure> HandshakeMonitor::take_failure() {
  std::optional<HandshakeFailure> failure;
  while (true) {
    // An event is two frames: 6 bytes (u16 event, u32 value), the endpoint.
    std::vector<zmq::message_t> frames;
    try {
      zmq::message_t frame;
      if (!events_.recv(frame, zmq::recv_flags::dontwait)) break;
      bool more = frame.more();
      frames.push_back(std::move(frame));
      while (more) {
        zmq::message_t next;
        if (!events_.recv(next, zmq::recv_flags::none)) break;
        more = next.more();
        frames.push_back(std::move(next));
      }
    } catch (const zmq::error_t&) {
      break;
    }
    if (frames.size() != 2 || frames[0].size() < 6) continue;
    uint16_t event = 0;
    uint32_t value = 0;
    std::memcpy(&event, frames[0].data(), sizeof(event));
    std::memcpy(&value, static_cast<const char*>(frames[0].data()) + 2, sizeof(value));
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      succeeded_ = true;
      continue;
    }
    HandshakeFailure f;
    f.kind = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? HandshakeFailure::Kind::kRefused
                                                      : HandshakeFailure::Kind::kFailed;
    f.value = static_cast<int>(value);
    f.endpoint = frames[1].to_string();
    f.client_uses_curve = client_uses_curve_;
    failure = std::move(f);
  }
  return failure;
}

}  // namespace roster
