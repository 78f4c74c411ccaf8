#include "socket_monitor.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace roster::broker {

namespace {

// Handshake failures before ZAP: a peer that does not speak ZMTP, a client
// without CURVE on a CURVE endpoint, or one with the wrong broker key (ZAP
// refusals are counted by the ZAP handler, access_control.h).
constexpr int kEvents = ZMQ_EVENT_ACCEPT_FAILED | ZMQ_EVENT_CLOSE_FAILED |
                        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
// Events read per socket per drain(): while descriptors are exhausted
// libzmq reports a failure per retry, far more than anyone needs to read.
constexpr int kEventsPerDrain = 64;
// A monitor event's first frame: uint16 event, uint32 value (ZeroMQ 4).
constexpr size_t kEventFrameBytes = 6;

std::atomic<uint64_t> next_monitor_id{0};

std::string soft_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return "?";
  return std::to_string(limit.rlim_cur);
}

}  // namespace

std::optional<std::string> monitor_failures(zmq::socket_t& socket, const std::string& endpoint) {
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), kEvents) != 0) {
    return "cannot monitor a socket on " + endpoint + ": " + zmq_strerror(zmq_errno());
  }
  return std::nullopt;
}

std::string SocketFailures::add(const std::string& flag) {
  std::string endpoint = "inproc://roster-monitor-" + std::to_string(next_monitor_id++);
  zmq::socket_t socket(context_, zmq::socket_type::pair);
  socket.set(zmq::sockopt::linger, 0);
  // inproc allows connecting before the monitor binds.
  socket.connect(endpoint);
  readers_.push_back(Reader{flag, std::move(socket)});
  return endpoint;
}

std::optional<std::string> SocketFailures::watch(zmq::socket_t& socket, const std::string& flag) {
  return monitor_failures(socket, add(flag));
}

void SocketFailures::drain(TimeMs now) {
  for (Reader& reader : readers_) {
    for (int i = 0; i < kEventsPerDrain; ++i) {
      zmq::message_t header;
      if (!reader.socket.recv(header, zmq::recv_flags::dontwait)) break;
      zmq::message_t address;
      if (header.more()) (void)reader.socket.recv(address, zmq::recv_flags::none);
      if (header.size() != kEventFrameBytes) continue;
      uint16_t event = 0;
      uint32_t value = 0;
      std::memcpy(&event, header.data(), sizeof event);
      std::memcpy(&value, static_cast<const char*>(header.data()) + sizeof event, sizeof value);
      handle(reader, event, value, address.to_string_view(), now);
    }
  }
}

void SocketFailures::handle(const Reader& reader, uint16_t event, uint32_t error,
                            std::string_view address, TimeMs now) {
  const int err = static_cast<int>(error);
  if (event == ZMQ_EVENT_ACCEPT_FAILED) {
    ++counters_.accept_failures;
    if (!warnings_.allow("accept_failed", now)) return;
    if (err == EMFILE || err == ENFILE) {
      spdlog::warn(
          "accept failed on {} {}: {} (soft limit {}): new clients wait until a descriptor is "
          "free; raise the file descriptor limit (LimitNOFILE)",
          reader.flag, address, std::strerror(err), soft_fd_limit());
    } else {
      spdlog::warn("accept failed on {} {}: {}", reader.flag, address, std::strerror(err));
    }
    return;
  }
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
      event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    ++counters_.handshakes_failed;
    if (!warnings_.allow("handshake_failed", now)) return;
    spdlog::warn(
        "handshake failed on {} {} (protocol error {:#x}): a peer that does not speak ZMTP, a "
        "client without CURVE on a CURVE endpoint (or the reverse), or one with the wrong broker "
        "key",
        reader.flag, address, error);
    return;
  }
  if (event == ZMQ_EVENT_CLOSE_FAILED) {
    ++counters_.close_failures;
    if (!warnings_.allow("close_failed", now)) return;
    spdlog::warn("closing a connection failed on {} {}: {}", reader.flag, address,
                 std::strerror(err));
  }
}

}  // namespace roster::broker
