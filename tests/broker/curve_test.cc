// CURVE on a real roster-broker (--curve-secret, --agent-keys, --admin-keys,
// --subscriber-keys): for each endpoint a client without CURVE and one
// with an unknown key get nothing, one with an allowed key is served; agent
// keys claim only the node ids their globs match (forbidden otherwise); a
// key removed from its directory is refused from its next request on after
// SIGHUP; every refusal is counted. Clients are raw ZeroMQ sockets with the
// CURVE options set directly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.hpp>

#include "roster/codec.h"
#include "roster/curve_certificate.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/process.h"
#include "support/raw_sockets.h"

namespace roster::testing {
namespace {

using namespace std::chrono_literals;

// How long a refused client waits to be sure nothing comes: the same
// request from an allowed client is answered in milliseconds.
constexpr std::chrono::milliseconds kNothingWithin = 1'500ms;
constexpr uint64_t kLeaseMs = 60'000;

struct ClientKeys {
  std::string public_key;
  std::string secret_key;
};

// A socket of `type` connected to `endpoint`: plain without `keys`, else a
// CURVE client of the broker `server_key`.
zmq::socket_t connect(zmq::socket_type type, const std::string& endpoint,
                      const std::optional<ClientKeys>& keys, const std::string& server_key) {
  zmq::socket_t socket(test_context(), type);
  socket.set(zmq::sockopt::linger, 0);
  if (keys) {
    socket.set(zmq::sockopt::curve_serverkey, server_key);
    socket.set(zmq::sockopt::curve_publickey, keys->public_key);
    socket.set(zmq::sockopt::curve_secretkey, keys->secret_key);
  }
  socket.connect(endpoint);
  return socket;
}

std::optional<std::string> receive_last(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
  std::string last;
  zmq::message_t frame;
  do {
    (void)socket.recv(frame, zmq::recv_flags::none);
    last = frame.to_string();
  } while (frame.more());
  return last;
}

// One agent-channel client on its own connection.
class CurveAgent {
 public:
  CurveAgent(const std::string& endpoint, const std::optional<ClientKeys>& keys,
             const std::string& server_key)
      : socket_(connect(zmq::socket_type::dealer, endpoint, keys, server_key)) {}

  std::optional<AgentReply> call(const AgentRequest& request,
                                 std::chrono::milliseconds timeout = kReplyTimeout) {
    const std::string body = encode(request);
    socket_.send(zmq::buffer(body), zmq::send_flags::none);
    auto reply = receive_last(socket_, timeout);
    if (!reply) return std::nullopt;
    auto decoded = decode_agent_reply(*reply);
    if (!decoded.ok()) {
      ADD_FAILURE() << "undecodable reply";
      return std::nullopt;
    }
    return decoded.value();
  }
  std::optional<AgentReply> join(const std::string& node, uint64_t inc, const Labels& labels = {},
                                 std::chrono::milliseconds timeout = kReplyTimeout) {
    return call(JoinRequest{node, inc, ++seq_, kLeaseMs, "", labels}, timeout);
  }
  std::optional<AgentReply> heartbeat(const std::string& node, uint64_t inc,
                                      std::chrono::milliseconds timeout = kReplyTimeout) {
    return call(HeartbeatRequest{node, inc, ++seq_}, timeout);
  }
  std::optional<AgentReply> leave(const std::string& node, uint64_t inc) {
    return call(LeaveRequest{node, inc, ++seq_, "test"});
  }

 private:
  zmq::socket_t socket_;
  uint64_t seq_ = 0;
};

// One admin-channel client on its own connection.
std::optional<AdminReply> admin_call(const std::string& endpoint,
                                     const std::optional<ClientKeys>& keys,
                                     const std::string& server_key, const AdminRequest& request,
                                     std::chrono::milliseconds timeout = kReplyTimeout) {
  auto socket = connect(zmq::socket_type::dealer, endpoint, keys, server_key);
  const std::string body = encode(request);
  socket.send(zmq::buffer(body), zmq::send_flags::none);
  auto reply = receive_last(socket, timeout);
  if (!reply) return std::nullopt;
  auto decoded = decode_admin_reply(*reply);
  if (!decoded.ok()) return std::nullopt;
  return decoded.value();
}

class CurveBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* sub : {"agents", "admin", "subscribers", "elsewhere"}) {
      ASSERT_EQ(::mkdir(dir_.file(sub).c_str(), 0700), 0);
    }
    broker_key_ = make_key("broker", {}, {});
    web_ = make_key("web", "agents", "web-*");
    web1_ = make_key("web1", "agents", "web-1");
    ops_ = make_key("ops", "admin", "");
    sub_ = make_key("sub", "subscribers", "");
    stranger_ = make_key("stranger", "elsewhere", "web-*");
  }

  // A new pair NAME in directory `in` (its public certificate only: the
  // secret stays outside the key directory), with `node` globs.
  ClientKeys make_key(const std::string& name, const std::string& in, const std::string& node) {
    auto cert = generate_certificate();
    cert.metadata["name"] = name;
    if (!node.empty()) cert.metadata["node"] = node;
    save_certificate(cert, dir_.file(name));
    if (!in.empty()) {
      save_certificate(cert, dir_.file("tmp"));
      EXPECT_EQ(::rename(dir_.file("tmp").c_str(), dir_.file(in + "/" + name).c_str()), 0);
      ::unlink(dir_.file("tmp_secret").c_str());
    }
    return ClientKeys{cert.public_key, cert.secret_key};
  }

  // Starts the broker; `subscribers` is --subscriber-keys (default: the
  // subscribers directory).
  void start(std::string subscribers = "") {
    if (subscribers.empty()) subscribers = dir_.file("subscribers");
    std::vector<std::string> args = {"--curve-secret",    dir_.file("broker_secret"),
                                     "--agent-keys",      dir_.file("agents"),
                                     "--admin-keys",      dir_.file("admin"),
                                     "--subscriber-keys", subscribers,
                                     "--beat-interval",   "100ms"};
    broker_ = BrokerProcess::start(args);
    ASSERT_NE(broker_, nullptr);
  }

  CurveAgent agent(const std::optional<ClientKeys>& keys) {
    return CurveAgent(broker_->endpoints().agents, keys, broker_key_.public_key);
  }
  std::optional<AdminReply> admin(const std::optional<ClientKeys>& keys,
                                  const AdminRequest& request,
                                  std::chrono::milliseconds timeout = kReplyTimeout) {
    return admin_call(broker_->endpoints().admin, keys, broker_key_.public_key, request, timeout);
  }
  std::optional<Stats> stats() {
    auto reply = admin(ops_, StatsQuery{});
    if (!reply || !std::holds_alternative<Stats>(*reply)) {
      ADD_FAILURE() << "no stats";
      return std::nullopt;
    }
    return std::get<Stats>(*reply);
  }
  std::optional<NodeRecord> node(const std::string& id) {
    auto reply = admin(ops_, NodeQuery{id});
    if (!reply) return std::nullopt;
    if (auto* info = std::get_if<NodeInfo>(&*reply)) return info->record;
    return std::nullopt;
  }
  // Removes a key file and reloads; waits for the broker to say so.
  void remove_and_reload(const std::string& path, const std::string& flag) {
    ASSERT_EQ(::unlink(path.c_str()), 0);
    broker_->process().signal(SIGHUP);
    ASSERT_TRUE(broker_->process().wait_for_output("SIGHUP: " + flag + " reloaded", kReplyTimeout))
        << broker_->process().output_tail();
  }
  uint64_t counter(const Stats& s, const std::string& name) {
    auto it = s.counters.find(name);
    return it == s.counters.end() ? 0 : it->second;
  }
  uint64_t forbidden(const Stats& s) {
    auto it = s.errors.find("forbidden");
    return it == s.errors.end() ? 0 : it->second;
  }

  TempDir dir_;
  ClientKeys broker_key_, web_, web1_, ops_, sub_, stranger_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(CurveBrokerTest, AgentsEndpointServesOnlyAllowedKeys) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto plain = agent(std::nullopt);
  EXPECT_FALSE(plain.join("web-1", 1, {}, kNothingWithin).has_value()) << "no CURVE: no reply";
  auto unknown = agent(stranger_);
  EXPECT_FALSE(unknown.join("web-2", 1, {}, kNothingWithin).has_value()) << "unknown key";
  auto allowed = agent(web_);
  EXPECT_TRUE(is_ack(allowed.join("web-3", 1)));
  EXPECT_FALSE(node("web-1").has_value());
  EXPECT_FALSE(node("web-2").has_value());
  ASSERT_NE(node("web-3"), std::nullopt);

  auto s = stats();
  ASSERT_TRUE(s);
  EXPECT_GE(counter(*s, "handshakes_refused_agents"), 1u);
  EXPECT_GE(counter(*s, "handshakes_failed"), 1u);
  EXPECT_GE(counter(*s, "handshakes_admitted"), 2u);  // web, ops
}

TEST_F(CurveBrokerTest, AKeyForWebGlobCannotJoinDb) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto web = agent(web_);
  EXPECT_EQ(error_code(web.join("db-1", 1)), ErrorCode::kForbidden);
  EXPECT_TRUE(is_ack(web.join("web-9", 1)));
  EXPECT_FALSE(node("db-1").has_value());
  auto s = stats();
  ASSERT_TRUE(s);
  EXPECT_EQ(forbidden(*s), 1u);
  EXPECT_TRUE(broker_->process().wait_for_output("may not claim node id db-1", kReplyTimeout));
}

TEST_F(CurveBrokerTest, AKeyForOneNodeCannotHeartbeatRelabelOrLeaveAnother) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto web = agent(web_);
  ASSERT_TRUE(is_ack(web.join("web-2", 7, {{"role", "real"}})));
  auto web1 = agent(web1_);
  ASSERT_TRUE(is_ack(web1.join("web-1", 1)));
  EXPECT_EQ(error_code(web1.heartbeat("web-2", 7)), ErrorCode::kForbidden);
  EXPECT_EQ(error_code(web1.join("web-2", 7, {{"role", "fake"}})), ErrorCode::kForbidden);
  EXPECT_EQ(error_code(web1.join("web-2", 8)), ErrorCode::kForbidden) << "takeover";
  EXPECT_EQ(error_code(web1.leave("web-2", 7)), ErrorCode::kForbidden);
  auto record = node("web-2");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->inc, 7u);
  EXPECT_EQ(record->state, NodeState::kAlive);
  EXPECT_EQ(record->labels.at("role"), "real");
  EXPECT_TRUE(is_ack(web1.heartbeat("web-1", 1)));
}

TEST_F(CurveBrokerTest, AKeyRemovedOnSighupIsRefusedFromItsNextHeartbeat) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto web1 = agent(web1_);
  ASSERT_TRUE(is_ack(web1.join("web-1", 1)));
  ASSERT_TRUE(is_ack(web1.heartbeat("web-1", 1)));
  ASSERT_NO_FATAL_FAILURE(remove_and_reload(dir_.file("agents/web1"), "--agent-keys"));
  // The same, established connection.
  EXPECT_EQ(error_code(web1.heartbeat("web-1", 1)), ErrorCode::kForbidden);
  // A new connection with that key does not get through the handshake.
  auto again = agent(web1_);
  EXPECT_FALSE(again.heartbeat("web-1", 1, kNothingWithin).has_value());
  // Other keys are unaffected.
  auto web = agent(web_);
  EXPECT_TRUE(is_ack(web.join("web-5", 1)));
  EXPECT_TRUE(broker_->process().wait_for_output("removed: web1", kReplyTimeout))
      << broker_->process().output_tail();
}

TEST_F(CurveBrokerTest, AdminEndpointServesOnlyAllowedKeys) {
  ASSERT_NO_FATAL_FAILURE(start());
  EXPECT_FALSE(admin(std::nullopt, StatsQuery{}, kNothingWithin).has_value()) << "no CURVE";
  EXPECT_FALSE(admin(stranger_, StatsQuery{}, kNothingWithin).has_value()) << "unknown key";
  EXPECT_FALSE(admin(web_, RemoveCommand{"web-1", std::nullopt}, kNothingWithin).has_value())
      << "an agent key is not an admin key";
  auto s = stats();
  ASSERT_TRUE(s);
  EXPECT_GE(counter(*s, "handshakes_refused_admin"), 2u);
  EXPECT_GE(counter(*s, "handshakes_failed"), 1u);

  ASSERT_NO_FATAL_FAILURE(remove_and_reload(dir_.file("admin/ops"), "--admin-keys"));
  auto reply = admin(ops_, StatsQuery{}, kNothingWithin);
  EXPECT_FALSE((reply).has_value()) << "a new connection of a removed key gets nothing";
}

TEST_F(CurveBrokerTest, AdminKeyRemovedOnSighupIsRefusedOnItsConnection) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto socket =
      connect(zmq::socket_type::dealer, broker_->endpoints().admin, ops_, broker_key_.public_key);
  const std::string body = encode(AdminRequest{StatsQuery{}});
  socket.send(zmq::buffer(body), zmq::send_flags::none);
  ASSERT_TRUE(receive_last(socket, kReplyTimeout));
  ASSERT_NO_FATAL_FAILURE(remove_and_reload(dir_.file("admin/ops"), "--admin-keys"));
  socket.send(zmq::buffer(body), zmq::send_flags::none);
  auto reply = receive_last(socket, kReplyTimeout);
  ASSERT_TRUE(reply);
  auto decoded = decode_admin_reply(*reply);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(error_code(std::optional<AdminReply>(decoded.value())), ErrorCode::kForbidden);
}

// Reads the state channel for `within`; true if any message came.
bool receives_anything(zmq::socket_t& sub, std::chrono::milliseconds within) {
  return receive_last(sub, within).has_value();
}

TEST_F(CurveBrokerTest, StateEndpointPublishesOnlyToAllowedKeys) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto plain = connect(zmq::socket_type::sub, broker_->endpoints().publish, std::nullopt, "");
  auto unknown = connect(zmq::socket_type::sub, broker_->endpoints().publish, stranger_,
                         broker_key_.public_key);
  auto allowed =
      connect(zmq::socket_type::sub, broker_->endpoints().publish, sub_, broker_key_.public_key);
  for (auto* s : {&plain, &unknown, &allowed}) s->set(zmq::sockopt::subscribe, "roster.");
  // The allowed one gets beats (every 100 ms): the channel is live.
  ASSERT_TRUE(receives_anything(allowed, kReplyTimeout));
  // A change happens while they listen: only the allowed one sees a delta.
  auto web = agent(web_);
  ASSERT_TRUE(is_ack(web.join("web-4", 1)));
  bool delta = false;
  const auto deadline = std::chrono::steady_clock::now() + kReplyTimeout;
  while (!delta && std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t item{allowed.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, 100ms) <= 0) continue;
    zmq::message_t topic;
    zmq::message_t body;
    (void)allowed.recv(topic, zmq::recv_flags::none);
    if (topic.more()) (void)allowed.recv(body, zmq::recv_flags::none);
    delta = topic.to_string_view() == kTopicDelta;
  }
  EXPECT_TRUE(delta);
  EXPECT_FALSE(receives_anything(plain, kNothingWithin)) << "no CURVE: no snapshot, beat or delta";
  EXPECT_FALSE(receives_anything(unknown, 100ms)) << "unknown key: nothing";
  auto s = stats();
  ASSERT_TRUE(s);
  EXPECT_GE(counter(*s, "handshakes_refused_state"), 1u);
}

TEST_F(CurveBrokerTest, SubscriberKeysAnyAdmitsAnyCurveClientButNotPlain) {
  ASSERT_NO_FATAL_FAILURE(start("any"));
  auto plain = connect(zmq::socket_type::sub, broker_->endpoints().publish, std::nullopt, "");
  auto stranger = connect(zmq::socket_type::sub, broker_->endpoints().publish, stranger_,
                          broker_key_.public_key);
  for (auto* s : {&plain, &stranger}) s->set(zmq::sockopt::subscribe, "roster.");
  EXPECT_TRUE(receives_anything(stranger, kReplyTimeout));
  EXPECT_FALSE(receives_anything(plain, kNothingWithin));
}

TEST(CurveBrokerStartTest, AdminOffLoopbackWithoutCurveIsRefused) {
  const auto r = run_command({bin("roster-broker"), "--agents", "tcp://127.0.0.1:0", "--publish",
                              "tcp://127.0.0.1:0", "--admin", "tcp://0.0.0.0:0"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--admin tcp://0.0.0.0:0 is not a loopback address"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--insecure-admin"), std::string::npos) << r.err;
}

TEST(CurveBrokerStartTest, BadCurveSecretIsAStartupError) {
  TempDir dir;
  auto cert = generate_certificate();
  save_certificate(cert, dir.file("broker"));
  ASSERT_EQ(::mkdir(dir.file("keys").c_str(), 0700), 0);
  const std::vector<std::string> base = {bin("roster-broker"),
                                         "--agents",
                                         "tcp://127.0.0.1:0",
                                         "--publish",
                                         "tcp://127.0.0.1:0",
                                         "--admin",
                                         "tcp://127.0.0.1:0",
                                         "--agent-keys",
                                         dir.file("keys"),
                                         "--admin-keys",
                                         dir.file("keys"),
                                         "--subscriber-keys",
                                         "any",
                                         "--curve-secret"};
  auto public_only = base;
  public_only.push_back(dir.file("broker"));
  auto r = run_command(public_only);
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("no curve/secret-key"), std::string::npos) << r.err;
  auto missing = base;
  missing.push_back(dir.file("none"));
  r = run_command(missing);
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace roster::testing
