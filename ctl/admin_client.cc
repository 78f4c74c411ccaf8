#include "admin_client.h"

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <variant>
#include <vector>

#include "curve_client.h"
#include "handshake_monitor.h"
#include "roster/codec.h"
#include "roster/duration.h"
#include "roster/snapshot_assembler.h"
#include "roster/utf8.h"

namespace roster::ctl {

struct AdminClient::Connection {
  zmq::context_t context;
  zmq::socket_t socket{context, zmq::socket_type::dealer};
  // Declared after the socket: stops monitoring before the socket closes.
  std::optional<HandshakeMonitor> monitor;
};

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

AdminExchange no_body(std::string error) {
  AdminExchange exchange;
  exchange.error = std::move(error);
  return exchange;
}

AdminCall failure(std::string error) {
  AdminCall call;
  call.error = std::move(error);
  return call;
}

}  // namespace

AdminClient::AdminClient(std::string endpoint, CurveClientOptions curve)
    : endpoint_(std::move(endpoint)), curve_(std::move(curve)) {}

AdminClient::~AdminClient() = default;

AdminExchange AdminClient::exchange(const std::string& body, uint64_t timeout_ms) {
  // Any failure below leaves the connection dropped (see the header).
  std::unique_ptr<Connection> connection = std::move(connection_);
  const int64_t deadline = steady_ms() + static_cast<int64_t>(timeout_ms);
  AdminExchange exchange = send(connection, body);
  if (!exchange.error.empty()) return exchange;
  exchange = receive(*connection, deadline, timeout_ms);
  if (exchange.body) connection_ = std::move(connection);
  return exchange;
}

AdminExchange AdminClient::send(std::unique_ptr<Connection>& connection, const std::string& body) {
  try {
    if (!connection) {
      connection = std::make_unique<Connection>();
      zmq::socket_t& socket = connection->socket;
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxStateBodyBytes));
      std::string curve_error;
      const auto keys = resolve_curve_client(curve_, &curve_error);
      if (keys) {
        apply_curve_client(socket, *keys);
      } else if (!curve_error.empty()) {
        return no_body(curve_error);
      }
      connection->monitor.emplace(connection->context, socket, keys.has_value());
      try {
        socket.connect(endpoint_);
      } catch (const zmq::error_t& e) {
        return no_body("invalid admin endpoint '" + endpoint_ + "': " + e.what());
      }
    }
    if (!connection->socket.send(zmq::buffer(body), zmq::send_flags::dontwait)) {
      return no_body("cannot queue the request to " + endpoint_);
    }
    return AdminExchange{};
  } catch (const zmq::error_t& e) {
    return no_body(std::string("ZeroMQ error: ") + e.what());
  }
}

AdminExchange AdminClient::receive(Connection& connection, int64_t deadline, uint64_t timeout_ms) {
  try {
    zmq::socket_t& socket = connection.socket;
    while (true) {
      const int64_t left = deadline - steady_ms();
      if (left <= 0) {
        return no_body("no reply from the broker at " + endpoint_ + " within " +
                       format_duration_ms(timeout_ms));
      }
      zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0},
                                 {connection.monitor->events().handle(), 0, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 2, std::chrono::milliseconds(left));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      if (items[0].revents & ZMQ_POLLIN) break;
      if (auto failure = connection.monitor->take_failure()) return no_body(failure->describe());
    }
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return no_body("no reply from the broker at " + endpoint_);
    }
    // A REQ-style empty delimiter may precede the body.
    while (frames.size() > 1 && frames.front().size() == 0) frames.erase(frames.begin());
    if (frames.size() != 1) return no_body("malformed reply from the broker (several frames)");
    AdminExchange exchange;
    exchange.body = frames[0].to_string();
    return exchange;
  } catch (const zmq::error_t& e) {
    return no_body(std::string("ZeroMQ error: ") + e.what());
  }
}

AdminCall AdminClient::call_in_parts(const AdminRequest& request, uint64_t timeout_ms) {
  std::unique_ptr<Connection> connection = std::move(connection_);
  const int64_t deadline = steady_ms() + static_cast<int64_t>(timeout_ms);
  AdminExchange sent = send(connection, encode(request));
  if (!sent.error.empty()) return failure(std::move(sent.error));
  SnapshotAssembler assembler;
  while (assembler.status() == SnapshotAssembler::Status::kMore) {
    AdminExchange exchanged = receive(*connection, deadline, timeout_ms);
    if (!exchanged.body) {
      if (assembler.parts() == 0) return failure(std::move(exchanged.error));
      return failure("incomplete snapshot from the broker at " + endpoint_ + ": " +
                     std::to_string(assembler.parts()) + " parts and no snapshot_end within " +
                     format_duration_ms(timeout_ms));
    }
    assembler.add(*exchanged.body);
  }
  AdminCall call;
  call.replaced_strings = assembler.replaced_strings();
  if (assembler.status() == SnapshotAssembler::Status::kDone) {
    call.reply = assembler.take();
  } else if (assembler.refusal()) {
    call.reply = *assembler.refusal();
  } else {
    // The rest of the broken reply may still come: the connection is dropped.
    return failure("malformed snapshot from the broker: " + assembler.error());
  }
  connection_ = std::move(connection);
  return call;
}

AdminCall AdminClient::call(const AdminRequest& request, uint64_t timeout_ms) {
  const auto* snapshot = std::get_if<SnapshotQuery>(&request);
  if (snapshot != nullptr && snapshot->part_bytes) return call_in_parts(request, timeout_ms);
  AdminExchange exchanged = exchange(encode(request), timeout_ms);
  if (!exchanged.body) return failure(std::move(exchanged.error));
  auto reply = decode_admin_reply(*exchanged.body);
  if (!reply.ok()) return failure("malformed reply from the broker: " + reply.error().message);
  AdminCall call;
  call.replaced_strings = reply.replaced_strings();
  call.reply = std::move(reply).value();
  return call;
}

AdminCall call_admin(const std::string& endpoint, const AdminRequest& request, uint64_t timeout_ms,
                     const CurveClientOptions& curve) {
  return AdminClient(endpoint, curve).call(request, timeout_ms);
}

std::optional<AdminReply> call_admin_or_report(const std::string& endpoint,
                                               const AdminRequest& request, uint64_t timeout_ms,
                                               const CurveClientOptions& curve) {
  return reply_or_report(call_admin(endpoint, request, timeout_ms, curve));
}

std::optional<AdminReply> reply_or_report(AdminCall call) {
  if (!call.reply) {
    std::cerr << "rosterctl: " << call.error << "\n";
    return std::nullopt;
  }
  if (call.replaced_strings > 0) {
    std::cerr << "rosterctl: warning: replaced invalid UTF-8 in " << call.replaced_strings
              << " strings from the broker\n";
  }
  if (const auto* error = std::get_if<ErrorReply>(&*call.reply)) {
    std::cerr << "rosterctl: " << to_string(error->code) << ": "
              << escape_for_terminal(error->message) << "\n";
    return std::nullopt;
  }
  return call.reply;
}

}  // namespace roster::ctl
