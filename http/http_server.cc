#include "http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "metrics_text.h"

namespace roster::http {

namespace {

// A request must arrive and its answer leave within this long: a client
// that stalls cannot hold one of the kHttpThreads for longer.
constexpr int kIoTimeoutSeconds = 5;
// How long start() waits for the listening thread to take the socket.
constexpr auto kStartTimeout = std::chrono::seconds(5);

void answer_probe(const std::function<ProbeResult()>& probe, httplib::Response& response) {
  if (!probe) {
    response.status = 404;
    return;
  }
  ProbeResult result = probe();
  response.status = result.ok ? 200 : 503;
  response.set_content(result.detail + "\n", "text/plain; charset=utf-8");
}

}  // namespace

struct HttpServer::Impl {
  httplib::Server server;
  std::thread thread;
  HttpAddress address;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::variant<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const HttpAddress& address,
                                                                         HttpHandlers handlers) {
  auto impl = std::make_unique<Impl>();
  httplib::Server& server = impl->server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  server.set_read_timeout(kIoTimeoutSeconds, 0);
  server.set_write_timeout(kIoTimeoutSeconds, 0);
  server.set_keep_alive_timeout(kIoTimeoutSeconds);
  // SO_REUSEADDR (a restart binds while old connections linger) but not
  // httplib's default SO_REUSEPORT, which lets a second process bind the
  // same port and take half the probes: a port in use must fail the start.
  server.set_socket_options([](int socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  auto shared = std::make_shared<HttpHandlers>(std::move(handlers));
  server.Get("/metrics", [shared](const httplib::Request&, httplib::Response& response) {
    if (!shared->metrics) {
      response.status = 404;
      return;
    }
    response.set_content(shared->metrics(), kMetricsContentType);
  });
  server.Get("/healthz", [shared](const httplib::Request&, httplib::Response& response) {
    answer_probe(shared->health, response);
  });
  server.Get("/readyz", [shared](const httplib::Request&, httplib::Response& response) {
    answer_probe(shared->ready, response);
  });
  auto not_allowed = [](const httplib::Request&, httplib::Response& response) {
    response.status = 405;
    response.set_header("Allow", "GET, HEAD");
  };
  server.Post(".*", not_allowed);
  server.Put(".*", not_allowed);
  server.Patch(".*", not_allowed);
  server.Delete(".*", not_allowed);
  server.Options(".*", not_allowed);

  impl->address = address;
  if (address.port == 0) {
    impl->address.port = server.bind_to_any_port(address.host);
  } else if (!server.bind_to_port(address.host, address.port)) {
    impl->address.port = -1;
  }
  if (impl->address.port <= 0) {
    return "cannot listen on " + address.host + ":" + std::to_string(address.port) +
           " (address in use, or not an address of this host)";
  }
  impl->thread = std::thread([&server] { server.listen_after_bind(); });
  // stop() only stops a server that is listening: wait until it is, so
  // the destructor can always stop it.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto result = std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
  if (!result->impl_->server.is_running()) return "the HTTP server thread did not start";
  return result;
}

HttpServer::~HttpServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HttpServer::port() const {
  return impl_->address.port;
}

std::string HttpServer::address() const {
  const std::string& host = impl_->address.host;
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(impl_->address.port);
}

}  // namespace roster::http
