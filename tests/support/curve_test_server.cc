#include "support/curve_test_server.h"

#include <algorithm>

#include "roster/codec.h"
#include "support/saved_certificate.h"

namespace roster::testing {

CurveKeyFiles make_curve_keys(const TempDir& dir, const std::string& name) {
  const CurveCertificate cert = saved_certificate(dir.file(name), name);
  CurveKeyFiles files;
  files.public_key = cert.public_key;
  files.secret_key = cert.secret_key;
  files.public_file = dir.file(name);
  files.secret_file = dir.file(name + "_secret");
  return files;
}

CurveClientOptions curve_files(const CurveKeyFiles& client, const CurveKeyFiles& broker) {
  CurveClientOptions options;
  options.secret_certificate_file = client.secret_file;
  options.broker_certificate_file = broker.public_file;
  return options;
}

CurveTestKeys::CurveTestKeys(const std::string& allowed_name)
    : broker(make_curve_keys(dir, "broker")),
      allowed(make_curve_keys(dir, allowed_name)),
      stranger(make_curve_keys(dir, "stranger")) {}

std::string curve_test_snapshot_reply() {
  Snapshot snapshot;
  snapshot.epoch = 7;
  snapshot.version = 3;
  snapshot.complete = true;
  snapshot.time_ms = 1;
  return encode(AdminReply{snapshot});
}

namespace {
// Bound before the handler's thread starts using it.
zmq::socket_t bound_zap_handler(zmq::context_t& context) {
  zmq::socket_t socket(context, zmq::socket_type::rep);
  socket.set(zmq::sockopt::linger, 0);
  socket.bind("inproc://zeromq.zap.01");
  return socket;
}
}  // namespace

ZapAllowList::ZapAllowList(zmq::context_t& context, std::vector<std::string> allowed)
    : handler_(bound_zap_handler(context)),
      allowed_(std::move(allowed)),
      thread_([this](const StopFlag& stop) {
        while (!stop) {
          zmq::pollitem_t item{handler_.handle(), 0, ZMQ_POLLIN, 0};
          if (zmq::poll(&item, 1, std::chrono::milliseconds(20)) == 0) continue;
          // version, request id, domain, address, identity, mechanism, key
          std::vector<zmq::message_t> frames;
          bool more = true;
          while (more) {
            zmq::message_t frame;
            if (!handler_.recv(frame, zmq::recv_flags::none)) break;
            more = frame.more();
            frames.push_back(std::move(frame));
          }
          if (frames.size() < 6) continue;
          bool admit = false;
          if (frames.size() >= 7 && frames[6].size() == 32) {
            char z85[41] = {};
            zmq_z85_encode(z85, static_cast<const uint8_t*>(frames[6].data()), 32);
            admit = std::find(allowed_.begin(), allowed_.end(), std::string(z85)) != allowed_.end();
          }
          ++(admit ? admitted_ : refused_);
          const std::string status = admit ? "200" : "400";
          handler_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
          handler_.send(frames[1], zmq::send_flags::sndmore);
          handler_.send(zmq::buffer(status), zmq::send_flags::sndmore);
          handler_.send(zmq::buffer(std::string(admit ? "OK" : "key not allowed")),
                        zmq::send_flags::sndmore);
          handler_.send(zmq::buffer(std::string()), zmq::send_flags::sndmore);
          handler_.send(zmq::buffer(std::string()), zmq::send_flags::none);
        }
      }) {}

ZapAllowList::~ZapAllowList() {
  thread_.stop();
}

CurveTestServer::CurveTestServer(zmq::socket_type type, const CurveKeyFiles& broker,
                                 std::vector<std::string> allowed)
    : socket_(context_, type) {
  zap_ = std::make_unique<ZapAllowList>(context_, std::move(allowed));
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::curve_server, 1);
  socket_.set(zmq::sockopt::curve_secretkey, broker.secret_key);
  socket_.bind("tcp://127.0.0.1:*");
  endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
}

int CurveTestServer::answer_waiting(const std::string& body) {
  int answered = 0;
  while (true) {
    std::vector<zmq::message_t> frames;
    bool more = true;
    while (more) {
      zmq::message_t frame;
      if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return answered;
      more = frame.more();
      frames.push_back(std::move(frame));
    }
    socket_.send(frames[0], zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(body), zmq::send_flags::none);
    ++answered;
  }
}

CurveTestServer::~CurveTestServer() {
  socket_.close();
  zap_.reset();
}

}  // namespace roster::testing
