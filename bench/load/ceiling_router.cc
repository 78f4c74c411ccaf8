#include "ceiling_router.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <zmq.hpp>

#include "ready_file.h"
#include "roster/codec.h"
#include "roster/curve_certificate.h"

namespace roster::bench {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) {
  g_stop = 1;
}

}  // namespace

int run_ceiling_router(const std::string& endpoint, const std::string& ready_file,
                       const std::string& curve_secret) {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxBodyBytes));
  if (!curve_secret.empty()) {
    try {
      const CurveCertificate cert = load_certificate(curve_secret);
      router.set(zmq::sockopt::curve_server, 1);
      router.set(zmq::sockopt::curve_secretkey, cert.secret_key);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ceiling: %s\n", e.what());
      return 1;
    }
  }
  try {
    router.bind(endpoint);
  } catch (const zmq::error_t& e) {
    std::fprintf(stderr, "ceiling: cannot bind %s: %s\n", endpoint.c_str(), e.what());
    return 1;
  }
  const std::string bound = router.get(zmq::sockopt::last_endpoint);
  if (!ready_file.empty()) {
    broker::ReadyInfo info;
    info.agents = bound;
    info.pid = static_cast<long>(::getpid());
    if (auto error = broker::write_ready_file(ready_file, info)) {
      std::fprintf(stderr, "ceiling: %s\n", error->c_str());
      return 1;
    }
  }
  const std::string ack = encode(AgentReply{Ack{0, 1, 60'000, NodeState::kAlive}});
  zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
  zmq::message_t identity;
  zmq::message_t frame;
  while (!g_stop) {
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      // Drain everything waiting: [identity, body...] -> [identity, ack].
      while (router.recv(identity, zmq::recv_flags::dontwait)) {
        bool more = identity.more();
        while (more && router.recv(frame, zmq::recv_flags::none)) more = frame.more();
        router.send(identity, zmq::send_flags::sndmore);
        router.send(zmq::buffer(ack), zmq::send_flags::dontwait);
      }
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) {
        std::fprintf(stderr, "ceiling: %s\n", e.what());
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace roster::bench
