#include "admin_client.h"

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <variant>
#include <vector>

#include "roster/codec.h"
#include "roster/duration.h"
#include "roster/utf8.h"

namespace roster::ctl {

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

AdminCall failure(std::string error) {
  AdminCall call;
  call.error = std::move(error);
  return call;
}

}  // namespace

AdminCall call_admin(const std::string& endpoint, const AdminRequest& request,
                     uint64_t timeout_ms) {
  try {
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxStateBodyBytes));
    try {
      socket.connect(endpoint);
    } catch (const zmq::error_t& e) {
      return failure("invalid admin endpoint '" + endpoint + "': " + e.what());
    }
    const std::string body = encode(request);
    if (!socket.send(zmq::buffer(body), zmq::send_flags::dontwait)) {
      return failure("cannot queue the request to " + endpoint);
    }
    const int64_t deadline = steady_ms() + static_cast<int64_t>(timeout_ms);
    while (true) {
      const int64_t left = deadline - steady_ms();
      if (left <= 0) {
        return failure("no reply from the broker at " + endpoint + " within " +
                       format_duration_ms(timeout_ms));
      }
      zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 1, std::chrono::milliseconds(left));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      if (items[0].revents & ZMQ_POLLIN) break;
    }
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return failure("no reply from the broker at " + endpoint);
    }
    // A REQ-style empty delimiter may precede the body.
    while (frames.size() > 1 && frames.front().size() == 0) frames.erase(frames.begin());
    if (frames.size() != 1) return failure("malformed reply from the broker (several frames)");
    auto reply = decode_admin_reply(frames[0].to_string_view());
    if (!reply.ok()) return failure("malformed reply from the broker: " + reply.error().message);
    AdminCall call;
    call.replaced_strings = reply.replaced_strings();
    call.reply = std::move(reply).value();
    return call;
  } catch (const zmq::error_t& e) {
    return failure(std::string("ZeroMQ error: ") + e.what());
  }
}

std::optional<AdminReply> call_admin_or_report(const std::string& endpoint,
                                               const AdminRequest& request, uint64_t timeout_ms) {
  AdminCall call = call_admin(endpoint, request, timeout_ms);
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
