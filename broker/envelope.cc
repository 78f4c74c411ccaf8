#include "envelope.h"

#include <zmq.h>

#include <utility>

namespace roster::broker {

namespace {

std::string peer_address(zmq::message_t& frame) {
  const char* address = zmq_msg_gets(frame.handle(), "Peer-Address");
  return address ? std::string(address) : std::string();
}

// What a tracked message owns until the socket releases it.
struct Tracked {
  zmq::message_t body;
  std::shared_ptr<std::atomic<bool>> delivered;
};

void release_tracked(void*, void* hint) {
  auto* tracked = static_cast<Tracked*>(hint);
  std::shared_ptr<std::atomic<bool>> delivered = std::move(tracked->delivered);
  // The bytes go first: a flag seen set means the memory is back.
  delete tracked;
  delivered->store(true, std::memory_order_release);
}

// Sends [id, empty delimiter if `delimiter`, body] without blocking; false
// if the socket did not take the id frame (peer gone or at its high-water
// mark). The frames after the id are then taken as well: a multipart
// message is queued whole.
template <typename IdFrame, typename BodyFrame>
bool send_envelope(zmq::socket_t& router, IdFrame&& id, bool delimiter, BodyFrame&& body) {
  try {
    if (!router.send(std::forward<IdFrame>(id),
                     zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return false;
    }
    if (delimiter) router.send(zmq::message_t(), zmq::send_flags::sndmore);
    router.send(std::forward<BodyFrame>(body), zmq::send_flags::none);
    return true;
  } catch (const zmq::error_t&) {
    // EHOSTUNREACH only with ZMQ_ROUTER_MANDATORY; treat any failure as a drop.
    return false;
  }
}

}  // namespace

zmq::message_t track_delivery(zmq::message_t&& body, std::shared_ptr<std::atomic<bool>> delivered) {
  auto* tracked = new Tracked{std::move(body), std::move(delivered)};
  return zmq::message_t(tracked->body.data(), tracked->body.size(), release_tracked, tracked);
}

std::optional<RoutedRequest> receive_routed(zmq::socket_t& router) {
  // Built in place and returned as is (no moves of the request).
  std::optional<RoutedRequest> received(std::in_place);
  if (!receive_routed(router, &*received)) received.reset();
  return received;
}

bool receive_routed(zmq::socket_t& router, RoutedRequest* request) {
  request->delimiter = false;
  request->well_formed = false;
  request->frames = 0;
  request->peer.clear();
  if (request->body.size() != 0) request->body.rebuild();
  // Frames are read straight into their places.
  zmq::message_t& id = request->id_frame;
  if (!router.recv(id, zmq::recv_flags::dontwait)) {
    request->routing_id.clear();
    return false;
  }
  request->routing_id.assign(static_cast<const char*>(id.data()), id.size());
  request->frames = 1;
  bool more = id.more();
  zmq::message_t frame;
  // Frames after the routing id: the second lands in `body`, the third in
  // `third`, any later one in `frame` (dropped).
  zmq::message_t third;
  while (more) {
    zmq::message_t& next =
        request->frames == 1 ? request->body : (request->frames == 2 ? third : frame);
    // The rest of a multipart message is delivered atomically.
    (void)router.recv(next, zmq::recv_flags::none);
    more = next.more();
    ++request->frames;
  }
  if (request->frames == 2) {
    request->well_formed = true;
  } else if (request->frames == 3 && request->body.size() == 0) {
    request->well_formed = true;
    request->delimiter = true;
    request->body.move(third);
  } else {
    request->delimiter = request->frames >= 2 && request->body.size() == 0;
    // Malformed: keep the address now, the frames are dropped.
    if (request->frames >= 2) {
      request->peer = peer_address(request->body);
      request->body.rebuild();
    }
  }
  return true;
}

std::string peer_of(const RoutedRequest& request) {
  if (!request.peer.empty() || !request.well_formed) return request.peer;
  // Reading metadata does not change the message; the C API just is not const.
  return peer_address(const_cast<zmq::message_t&>(request.body));
}

bool reply_routed(zmq::socket_t& router, const std::string& routing_id, bool delimiter,
                  std::string_view body) {
  return send_envelope(router, zmq::buffer(routing_id), delimiter,
                       zmq::buffer(body.data(), body.size()));
}

bool reply_routed(zmq::socket_t& router, const std::string& routing_id, bool delimiter,
                  zmq::message_t&& body) {
  return send_envelope(router, zmq::buffer(routing_id), delimiter, body);
}

bool reply_routed(zmq::socket_t& router, zmq::message_t& id_frame, bool delimiter,
                  std::string_view body) {
  return send_envelope(router, id_frame, delimiter, zmq::buffer(body.data(), body.size()));
}

bool reply_routed(zmq::socket_t& router, const RoutedRequest& request, std::string_view body) {
  return reply_routed(router, request.routing_id, request.delimiter, body);
}

std::string printable_id(std::string_view routing_id) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(routing_id.size() * 2);
  for (unsigned char c : routing_id) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

}  // namespace roster::broker
