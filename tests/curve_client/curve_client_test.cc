// roster_curve_client: resolving CurveClientOptions into keys (every bad
// form is an error naming the flag or file), and HandshakeMonitor against
// a CURVE server with a ZAP allow list: an allowed key succeeds, a refused
// key and a wrong broker key are reported as failures of their kind.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>

#include "curve_client.h"
#include "handshake_monitor.h"
#include "support/curve_test_server.h"
#include "support/process.h"

namespace roster::testing {
namespace {

using std::chrono::seconds;

constexpr auto kEventually = seconds(10);

struct Keys {
  TempDir dir;
  CurveKeyFiles broker = make_curve_keys(dir, "broker");
  CurveKeyFiles client = make_curve_keys(dir, "client");
  CurveKeyFiles stranger = make_curve_keys(dir, "stranger");
};

TEST(ResolveCurveClient, EmptyOptionsArePlaintext) {
  std::string error = "stale";
  EXPECT_FALSE(resolve_curve_client(CurveClientOptions{}, &error));
  EXPECT_EQ(error, "");
}

TEST(ResolveCurveClient, ReadsTheClientPairAndTheBrokerKey) {
  Keys keys;
  std::string error;
  auto resolved = resolve_curve_client(curve_files(keys.client, keys.broker), &error);
  ASSERT_TRUE(resolved) << error;
  EXPECT_EQ(resolved->public_key, keys.client.public_key);
  EXPECT_EQ(resolved->secret_key, keys.client.secret_key);
  EXPECT_EQ(resolved->broker_public_key, keys.broker.public_key);
}

TEST(ResolveCurveClient, SecretFileWithoutBrokerKeyIsAnError) {
  Keys keys;
  CurveClientOptions options;
  options.secret_certificate_file = keys.client.secret_file;
  std::string error;
  EXPECT_FALSE(resolve_curve_client(options, &error));
  EXPECT_NE(error.find("--curve-secret is given without --broker-key"), std::string::npos) << error;
}

TEST(ResolveCurveClient, BrokerKeyWithoutSecretFileIsAnError) {
  Keys keys;
  CurveClientOptions options;
  options.broker_certificate_file = keys.broker.public_file;
  std::string error;
  EXPECT_FALSE(resolve_curve_client(options, &error));
  EXPECT_NE(error.find("--broker-key is given without --curve-secret"), std::string::npos) << error;
}

TEST(ResolveCurveClient, MissingFileIsNamed) {
  Keys keys;
  CurveClientOptions options = curve_files(keys.client, keys.broker);
  options.broker_certificate_file = keys.dir.file("no-such-cert");
  std::string error;
  EXPECT_FALSE(resolve_curve_client(options, &error));
  EXPECT_NE(error.find("--broker-key"), std::string::npos) << error;
  EXPECT_NE(error.find("no-such-cert"), std::string::npos) << error;
}

TEST(ResolveCurveClient, MalformedFileIsNamed) {
  Keys keys;
  std::ofstream(keys.dir.file("garbage")) << "this is not a certificate\n";
  CurveClientOptions options = curve_files(keys.client, keys.broker);
  options.secret_certificate_file = keys.dir.file("garbage");
  std::string error;
  EXPECT_FALSE(resolve_curve_client(options, &error));
  EXPECT_NE(error.find("--curve-secret"), std::string::npos) << error;
  EXPECT_NE(error.find("garbage"), std::string::npos) << error;
}

TEST(ResolveCurveClient, PublicCertificateAsOwnSecretIsAnError) {
  Keys keys;
  CurveClientOptions options = curve_files(keys.client, keys.broker);
  options.secret_certificate_file = keys.client.public_file;
  std::string error;
  EXPECT_FALSE(resolve_curve_client(options, &error));
  EXPECT_NE(error.find("no secret-key"), std::string::npos) << error;
  EXPECT_NE(error.find(keys.client.public_file), std::string::npos) << error;
}

TEST(ResolveCurveClient, LoadedKeysAreUsedAsGiven) {
  Keys keys;
  CurveClientOptions options;
  options.public_key = keys.client.public_key;
  options.secret_key = keys.client.secret_key;
  options.broker_public_key = keys.broker.public_key;
  std::string error;
  auto resolved = resolve_curve_client(options, &error);
  ASSERT_TRUE(resolved) << error;
  EXPECT_EQ(resolved->broker_public_key, keys.broker.public_key);
}

TEST(ResolveCurveClient, IncompleteOrInvalidKeysAreErrors) {
  Keys keys;
  CurveClientOptions options;
  options.public_key = keys.client.public_key;
  options.secret_key = keys.client.secret_key;
  std::string error;
  EXPECT_FALSE(resolve_curve_client(options, &error));
  EXPECT_NE(error.find("all three"), std::string::npos) << error;

  options.broker_public_key = "too short";
  EXPECT_FALSE(resolve_curve_client(options, &error));
  EXPECT_NE(error.find("broker_public_key is not a CURVE key"), std::string::npos) << error;
}

TEST(ResolveCurveClient, FilesAndKeysTogetherAreAnError) {
  Keys keys;
  CurveClientOptions options = curve_files(keys.client, keys.broker);
  options.public_key = keys.client.public_key;
  std::string error;
  EXPECT_FALSE(resolve_curve_client(options, &error));
  EXPECT_NE(error.find("not both"), std::string::npos) << error;
}

// A DEALER with `client_keys` and a monitor, connected to `server`.
struct MonitoredClient {
  // Without `client_keys`, a plaintext client.
  MonitoredClient(const std::string& endpoint, const std::optional<CurveClientKeys>& client_keys) {
    socket.set(zmq::sockopt::linger, 0);
    if (client_keys) apply_curve_client(socket, *client_keys);
    monitor.emplace(context, socket, client_keys.has_value());
    socket.connect(endpoint);
  }
  ~MonitoredClient() {
    monitor.reset();
    socket.close();
  }

  // Waits for the first failure (or success) the monitor reports.
  std::optional<HandshakeFailure> wait_failure() {
    std::optional<HandshakeFailure> failure;
    wait_until(
        [&] {
          failure = monitor->take_failure();
          return failure.has_value() || monitor->succeeded();
        },
        kEventually);
    return failure;
  }

  zmq::context_t context;
  zmq::socket_t socket{context, zmq::socket_type::dealer};
  std::optional<HandshakeMonitor> monitor;
};

CurveClientKeys client_keys(const CurveKeyFiles& client, const CurveKeyFiles& broker) {
  return CurveClientKeys{client.public_key, client.secret_key, broker.public_key};
}

TEST(HandshakeMonitor, AllowedKeySucceeds) {
  Keys keys;
  CurveTestServer server(zmq::socket_type::router, keys.broker, {keys.client.public_key});
  MonitoredClient client(server.endpoint(), client_keys(keys.client, keys.broker));
  EXPECT_FALSE(client.wait_failure());
  EXPECT_TRUE(client.monitor->succeeded());
}

TEST(HandshakeMonitor, KeyTheBrokerRefusesIsReportedAsRefused) {
  Keys keys;
  CurveTestServer server(zmq::socket_type::router, keys.broker, {keys.client.public_key});
  MonitoredClient client(server.endpoint(), client_keys(keys.stranger, keys.broker));
  auto failure = client.wait_failure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, HandshakeFailure::Kind::kRefused);
  EXPECT_EQ(failure->value, 400);
  EXPECT_EQ(failure->endpoint, server.endpoint());
  EXPECT_EQ(failure->describe().rfind("authentication failed: the broker at " + server.endpoint() +
                                          " refused this client's key",
                                      0),
            0u)
      << failure->describe();
  EXPECT_FALSE(client.monitor->succeeded());
}

TEST(HandshakeMonitor, WrongBrokerKeyIsReportedAsAFailedHandshake) {
  Keys keys;
  CurveTestServer server(zmq::socket_type::router, keys.broker, {keys.client.public_key});
  // The client believes the stranger's key is the broker's.
  MonitoredClient client(server.endpoint(), client_keys(keys.client, keys.stranger));
  auto failure = client.wait_failure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, HandshakeFailure::Kind::kFailed);
  EXPECT_NE(failure->describe().find("is --broker-key the broker's public certificate"),
            std::string::npos)
      << failure->describe();
}

TEST(HandshakeMonitor, PlaintextClientOfACurveBrokerIsToldThatTheBrokerRequiresCurve) {
  Keys keys;
  CurveTestServer server(zmq::socket_type::router, keys.broker, {keys.client.public_key});
  MonitoredClient client(server.endpoint(), std::nullopt);
  auto failure = client.wait_failure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, HandshakeFailure::Kind::kFailed);
  EXPECT_FALSE(failure->client_uses_curve);
  EXPECT_NE(failure->describe().find("the broker probably requires CURVE (give this client "
                                     "--curve-secret and --broker-key)"),
            std::string::npos)
      << failure->describe();
}

}  // namespace
}  // namespace roster::testing
