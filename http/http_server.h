// The operator's HTTP endpoints of a roster program, served by cpp-httplib
// on threads of their own (never the caller's event loop):
//   GET /metrics  200, the Prometheus text exposition format
//   GET /healthz  200 while the program's loop is turning, else 503
//   GET /readyz   200 once the program is ready to serve, else 503
// HEAD is answered like GET without a body. Any other path is 404 (so is an
// endpoint whose handler is empty); any other method 405. There is no
// authentication: bind it to loopback or a management network.
//
// Thread safety: the handlers run on the server's threads, up to
// kHttpThreads at once; they must be safe to call from any thread and
// concurrently with each other. start() and the destructor from one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "http_address.h"

namespace roster::http {

// Requests served at once: a slow scrape does not hold up a health probe.
inline constexpr int kHttpThreads = 2;

// The answer of a probe: 200 when ok, else 503; `detail` is the body.
struct ProbeResult {
  bool ok = false;
  std::string detail;
};

struct HttpHandlers {
  std::function<std::string()> metrics;  // /metrics body
  std::function<ProbeResult()> health;   // /healthz
  std::function<ProbeResult()> ready;    // /readyz
};

class HttpServer {
 public:
  // Binds `address` (port 0: any free port) and starts serving. Returns
  // the running server, or a one-line error naming the address (in use,
  // not an address of this host).
  static std::variant<std::unique_ptr<HttpServer>, std::string> start(const HttpAddress& address,
                                                                      HttpHandlers handlers);
  // Stops serving and joins the server's threads; a request being served
  // is finished first.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the real one when port 0 was asked for).
  int port() const;
  // HOST:PORT as bound, e.g. "127.0.0.1:9464" ("[::1]:9464" for IPv6).
  std::string address() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace roster::http
