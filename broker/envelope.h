// Reading requests from and replying on a ROUTER socket. A well-formed
// request is [routing id, body] (DEALER client) or [routing id, empty,
// body] (REQ client); a reply goes back with the same envelope.
//
// Thread safety: none; call from the thread that owns the socket.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <zmq.hpp>

namespace roster::broker {

// One multipart message read from a ROUTER.
struct RoutedRequest {
  std::string routing_id;
  // The client put an empty delimiter frame before the body (REQ); the
  // reply must carry one too.
  bool delimiter = false;
  // Exactly one body frame after the envelope. When false, `body` is empty
  // and the request deserves a bad_request reply.
  bool well_formed = false;
  // Frames of the message (routing id included).
  size_t frames = 0;
  zmq::message_t body;
  // The routing id frame as read, for AckBatch::add(); empty once taken.
  zmq::message_t id_frame;
  // The peer's address of a malformed request (whose frames are dropped);
  // empty otherwise: read it with peer_of(), only when logging.
  std::string peer;
};

// The peer's address ("Peer-Address" metadata) when the transport gives one,
// for logs; empty otherwise. Looked up on demand: the hot path never pays.
std::string peer_of(const RoutedRequest& request);

// Reads one message from `router` without blocking; nullopt if none is
// waiting. Never keeps more than a few frames of a long multipart message.
std::optional<RoutedRequest> receive_routed(zmq::socket_t& router);
// Same, into `*request` (whatever it held is released first), reusing its
// storage: returns false, with `*request` emptied, if none is waiting.
bool receive_routed(zmq::socket_t& router, RoutedRequest* request);

// Sends `body` to the request's sender with the request's envelope. Never
// blocks; returns false if the reply could not be queued (peer gone or at
// its high-water mark).
bool reply_routed(zmq::socket_t& router, const RoutedRequest& request, std::string_view body);
bool reply_routed(zmq::socket_t& router, const std::string& routing_id, bool delimiter,
                  std::string_view body);
// Same, but hands `body` itself to the socket (zero-copy): for large
// replies, which must not be copied on the loop thread. `body` is consumed.
bool reply_routed(zmq::socket_t& router, const std::string& routing_id, bool delimiter,
                  zmq::message_t&& body);
// Same, but hands the routing id frame as read (RoutedRequest::id_frame)
// to the socket instead of copying the id: the frame is empty afterwards if
// the socket took it, and unchanged if not.
bool reply_routed(zmq::socket_t& router, zmq::message_t& id_frame, bool delimiter,
                  std::string_view body);

// A message carrying `body`'s bytes (no copy) that sets `*delivered` once
// the socket is done with it: written out to the peer, or dropped (peer
// gone, queue full, socket closed). The flag may be set on a ZeroMQ I/O
// thread, after `body`'s bytes have been released.
zmq::message_t track_delivery(zmq::message_t&& body, std::shared_ptr<std::atomic<bool>> delivered);

// Printable form of a routing id (hex), for logs.
std::string printable_id(std::string_view routing_id);

}  // namespace roster::broker
