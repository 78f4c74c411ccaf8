// rosterctl run as a process against a real roster-broker; --json output is
// parsed with nlohmann_json and checked against what the test did.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <sstream>
#include <thread>

#include "roster/codec.h"
#include "roster/curve_certificate.h"
#include "roster/snapshot_parts.h"
#include "roster/utf8.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/fake_state_channel.h"
#include "support/process.h"
#include "support/version_output.h"

namespace roster {
namespace {

using nlohmann::json;
using testing::admin_snapshot;
using testing::AgentClient;
using testing::bin;
using testing::BrokerProcess;
using testing::CommandResult;
using testing::expect_version_output;
using testing::Process;
using testing::run_command;
using testing::wait_until;
using namespace std::chrono_literals;

constexpr uint64_t kLongLeaseMs = 60'000;

// The JSON objects among `text`'s lines (lines not starting with '{' are
// skipped; a line that does not parse fails the test).
std::vector<json> json_lines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << line;
    lines.push_back(parsed);
  }
  return lines;
}

class RosterctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = BrokerProcess::start({"--beat-interval", "100ms"});
    ASSERT_NE(broker_, nullptr);
    agent_ = std::make_unique<AgentClient>(broker_->endpoints().agents);
  }

  // rosterctl with the broker's endpoints and `args`.
  CommandResult ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin("rosterctl"), "--admin", broker_->endpoints().admin,
                                     "--state", broker_->endpoints().publish};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  json ctl_json(const std::vector<std::string>& args) {
    CommandResult r = ctl(args);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    json parsed = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << r.out;
    return parsed;
  }

  void join_two() {
    ASSERT_TRUE(
        agent_->join("web-1", 7, kLongLeaseMs, "10.0.0.1:80", {{"zone", "a"}, {"role", "web"}}));
    ASSERT_TRUE(agent_->join("db-1", 3, kLongLeaseMs, "10.0.0.2:5432"));
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<AgentClient> agent_;
};

TEST_F(RosterctlTest, MembersJsonListsEveryNode) {
  join_two();
  json out = ctl_json({"members", "--json"});
  auto truth = admin_snapshot(broker_->endpoints().admin);
  ASSERT_TRUE(truth);
  EXPECT_EQ(out["epoch"], truth->epoch);
  EXPECT_EQ(out["version"], truth->version);
  EXPECT_FALSE(out["complete"].get<bool>());  // the broker warms up for max-lease
  ASSERT_EQ(out["nodes"].size(), 2u);
  json web;
  for (const auto& n : out["nodes"]) {
    if (n["node"] == "web-1") web = n;
  }
  ASSERT_FALSE(web.is_null()) << out.dump();
  EXPECT_EQ(web["inc"], 7);
  EXPECT_EQ(web["state"], "alive");
  EXPECT_EQ(web["addr"], "10.0.0.1:80");
  EXPECT_EQ(web["labels"], (json{{"zone", "a"}, {"role", "web"}}));
  EXPECT_EQ(web["lease_ms"], kLongLeaseMs);
  EXPECT_GT(web["since_ms"].get<uint64_t>(), 0u);
}

TEST_F(RosterctlTest, MembersTableShowsEveryColumn) {
  join_two();
  CommandResult r = ctl({"members"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::istringstream in(r.out);
  std::string header;
  std::getline(in, header);
  for (const char* column : {"NODE", "INC", "STATE", "ADDR", "LABELS", "SINCE"}) {
    EXPECT_NE(header.find(column), std::string::npos) << header;
  }
  EXPECT_NE(r.out.find("web-1"), std::string::npos);
  EXPECT_NE(r.out.find("role=web,zone=a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("10.0.0.2:5432"), std::string::npos);
  EXPECT_NE(r.out.find("2 nodes"), std::string::npos);
}

TEST_F(RosterctlTest, NodeJsonShowsTheRecordAndLastSeen) {
  join_two();
  json out = ctl_json({"node", "db-1", "--json"});
  EXPECT_EQ(out["node"], "db-1");
  EXPECT_EQ(out["inc"], 3);
  EXPECT_EQ(out["state"], "alive");
  EXPECT_EQ(out["addr"], "10.0.0.2:5432");
  EXPECT_GT(out["last_seen_ms"].get<uint64_t>(), 0u);

  CommandResult text = ctl({"node", "db-1"});
  EXPECT_EQ(text.exit_status, 0);
  EXPECT_NE(text.out.find("last seen"), std::string::npos) << text.out;
}

TEST_F(RosterctlTest, UnknownNodeIsAnError) {
  CommandResult r = ctl({"node", "nobody"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("unknown_node"), std::string::npos) << r.err;
  CommandResult removed = ctl({"remove", "nobody", "--json"});
  EXPECT_EQ(removed.exit_status, 1);
  EXPECT_NE(removed.err.find("unknown_node"), std::string::npos) << removed.err;
}

TEST_F(RosterctlTest, RemoveForgetsTheNode) {
  join_two();
  // The wrong incarnation is refused, the node stays.
  CommandResult wrong = ctl({"remove", "web-1", "--inc", "6"});
  EXPECT_EQ(wrong.exit_status, 1) << wrong.out;
  json out = ctl_json({"remove", "web-1", "--inc", "7", "--json"});
  EXPECT_EQ(out["node"], "web-1");
  EXPECT_EQ(out["inc"], 7);
  auto truth = admin_snapshot(broker_->endpoints().admin);
  ASSERT_TRUE(truth);
  EXPECT_EQ(out["version"], truth->version);
  ASSERT_EQ(truth->nodes.size(), 1u);
  EXPECT_EQ(truth->nodes[0].node, "db-1");
  // The removed incarnation is told so.
  auto reply = agent_->heartbeat("web-1", 7);
  ASSERT_TRUE(reply);
  ASSERT_TRUE(std::holds_alternative<ErrorReply>(*reply));
  EXPECT_EQ(std::get<ErrorReply>(*reply).code, ErrorCode::kRemoved);
}

TEST_F(RosterctlTest, StatsJsonCountsNodesByState) {
  join_two();
  ASSERT_TRUE(agent_->leave("db-1", 3));
  json out = ctl_json({"stats", "--json"});
  EXPECT_EQ(out["nodes"], 2);
  EXPECT_EQ(out["by_state"]["alive"], 1);
  EXPECT_EQ(out["by_state"]["left"], 1);
  EXPECT_GE(out["messages"].get<uint64_t>(), 3u);
  EXPECT_TRUE(out.contains("uptime_ms"));
  EXPECT_TRUE(out["errors"].is_object());
}

TEST_F(RosterctlTest, EnvironmentGivesTheEndpoints) {
  join_two();
  CommandResult r = run_command({bin("rosterctl"), "stats", "--json"}, 20s,
                                {"ROSTER_ADMIN=" + broker_->endpoints().admin,
                                 "ROSTER_STATE=" + broker_->endpoints().publish});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["nodes"], 2);
}

TEST_F(RosterctlTest, WatchJsonPrintsEachChangeThenExitsAfterCount) {
  ASSERT_TRUE(agent_->join("early", 1, kLongLeaseMs));
  testing::TempDir dir;
  auto watch = Process::start(
      {bin("rosterctl"), "--admin", broker_->endpoints().admin, "--state",
       broker_->endpoints().publish, "watch", "--json", "--count", "4", "--beat-interval", "100ms"},
      dir.file("watch.log"));
  ASSERT_NE(watch, nullptr);
  // The initial resync (and the node it found) comes first.
  ASSERT_TRUE(watch->wait_for_output("\"resync\"", 20s)) << watch->output();
  ASSERT_TRUE(agent_->join("late", 1, kLongLeaseMs));
  ASSERT_TRUE(agent_->leave("early", 1));
  ASSERT_TRUE(
      run_command({bin("rosterctl"), "--admin", broker_->endpoints().admin, "remove", "late"})
          .exit_status == 0);
  auto status = watch->wait_exit(20s);
  ASSERT_TRUE(status) << watch->output();
  EXPECT_EQ(*status, 0) << watch->output();

  // Staleness lines may come on a loaded host; they are not under test here.
  std::vector<json> lines;
  for (const json& line : json_lines(watch->output())) {
    if (line["event"] != "stale") lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 5u) << watch->output();
  EXPECT_EQ(lines[0]["event"], "resync");
  EXPECT_EQ(lines[0]["reason"], "initial");
  EXPECT_EQ(lines[0]["nodes"], 1);
  // The broker may batch the join and the leave into one delta, in any
  // order: find each change by node and new state.
  auto find_change = [&](const std::string& node, const std::string& new_state) {
    for (const auto& line : lines) {
      if (line["event"] == "change" && line["node"] == node && line["new_state"] == new_state) {
        return line;
      }
    }
    ADD_FAILURE() << "no change of " << node << " to " << new_state << " in\n" << watch->output();
    return json();
  };
  const json early_found = find_change("early", "alive");
  const json late_joined = find_change("late", "alive");
  const json early_left = find_change("early", "left");
  const json late_removed = find_change("late", "removed");
  EXPECT_EQ(lines[1], early_found) << "the snapshot's node comes right after the resync";
  EXPECT_EQ(early_found["old_state"], nullptr);
  EXPECT_TRUE(early_found["from_resync"].get<bool>());
  EXPECT_EQ(late_joined["old_state"], nullptr);
  EXPECT_FALSE(late_joined["from_resync"].get<bool>());
  EXPECT_EQ(early_left["old_state"], "alive");
  EXPECT_EQ(late_removed["old_state"], "alive");
  EXPECT_EQ(late_removed["record"]["node"], "late");
  EXPECT_LT(late_joined["version"].get<uint64_t>(), late_removed["version"].get<uint64_t>());
}

TEST_F(RosterctlTest, WatchEndsAfterDuration) {
  CommandResult r = ctl({"watch", "--json", "--duration", "1s", "--beat-interval", "100ms"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  std::vector<json> lines = json_lines(r.out);
  ASSERT_FALSE(lines.empty()) << r.out;
  EXPECT_EQ(lines[0]["event"], "resync");
  EXPECT_EQ(lines[0]["nodes"], 0);
}

TEST_F(RosterctlTest, WatchTextReportsStalenessAndEndsOnSigterm) {
  testing::TempDir dir;
  auto watch = Process::start({bin("rosterctl"), "--admin", broker_->endpoints().admin, "--state",
                               broker_->endpoints().publish, "watch", "--beat-interval", "100ms"},
                              dir.file("watch.log"));
  ASSERT_NE(watch, nullptr);
  ASSERT_TRUE(watch->wait_for_output("resync", 20s)) << watch->output();
  broker_->process().signal(SIGSTOP);
  ASSERT_TRUE(watch->wait_for_output("STALE", 20s)) << watch->output();
  broker_->process().signal(SIGCONT);
  ASSERT_TRUE(watch->wait_for_output("fresh", 20s)) << watch->output();
  watch->signal(SIGTERM);
  auto status = watch->wait_exit(20s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << watch->output();
}

// Exit statuses that need no broker.

TEST(RosterctlErrorsTest, UnreachableBrokerIsAnErrorAfterTheTimeout) {
  // A bound ROUTER that never answers: the request goes out, no reply comes.
  zmq::context_t context;
  zmq::socket_t silent(context, zmq::socket_type::router);
  silent.set(zmq::sockopt::linger, 0);
  silent.bind("tcp://127.0.0.1:*");
  const std::string endpoint = silent.get(zmq::sockopt::last_endpoint);
  for (const char* command : {"members", "stats"}) {
    const auto start = std::chrono::steady_clock::now();
    CommandResult r =
        run_command({bin("rosterctl"), "--admin", endpoint, "--timeout", "300ms", command});
    EXPECT_EQ(r.exit_status, 1) << command;
    EXPECT_NE(r.err.find("no reply"), std::string::npos) << r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
  }
  // A silent state channel of the right socket type (a SUB connecting to
  // the ROUTER would fail its handshake: reported as such, not as silence).
  zmq::socket_t silent_state(context, zmq::socket_type::xpub);
  silent_state.set(zmq::sockopt::linger, 0);
  silent_state.bind("tcp://127.0.0.1:*");
  const std::string state_endpoint = silent_state.get(zmq::sockopt::last_endpoint);
  CommandResult watch = run_command({bin("rosterctl"), "--admin", endpoint, "--state",
                                     state_endpoint, "--timeout", "300ms", "watch"});
  EXPECT_EQ(watch.exit_status, 1);
  EXPECT_NE(watch.err.find("no snapshot"), std::string::npos) << watch.err;
}

// --version: one line on stdout, the name, project(VERSION) and the git
// revision when built from a checkout; exit 0, without a subcommand.
TEST(RosterctlVersionTest, VersionPrintsNameVersionAndRevision) {
  expect_version_output(run_command({bin("rosterctl"), "--version"}), "rosterctl");
}

TEST(RosterctlErrorsTest, UsageErrorsExitWithTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {},                                  // no subcommand
      {"frobnicate"},                      // unknown subcommand
      {"members", "--no-such-flag"},       // unknown flag
      {"node"},                            // missing NODE
      {"node", "bad id!"},                 // not a node id
      {"remove", "x", "--inc", "many"},    // not a number
      {"--timeout", "soon", "stats"},      // not a duration
      {"watch", "--duration", "forever"},  // not a duration
  };
  for (const auto& args : bad) {
    std::vector<std::string> argv = {bin("rosterctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_status, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  CommandResult help = run_command({bin("rosterctl"), "--help"});
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_NE(help.out.find("members"), std::string::npos);
}

// rosterctl against a hostile (or buggy) broker: a scripted fake that sends
// ill-formed UTF-8, ANSI escapes, newlines and C1 controls in every string
// it can. rosterctl must exit normally, print valid JSON, and let no control
// character reach the terminal.

// Addr and labels of a node record, as a hostile broker sends them.
const std::string kHostileAddr = "10.0.0.1:80\x1b[2J\x1b[31m\r\nevil-9  1  alive\xff";
const Labels kHostileLabels = {{"zone\xc3", "a\nb"},
                               {"role", "\x1b]0;pwned\x07"},
                               {"city", "z\xC3\xBCrich"},
                               {"c1",
                                "\xC2\x9B"
                                "31m"}};

NodeRecord hostile_record(const std::string& node, const std::string& addr, const Labels& labels) {
  NodeRecord r;
  r.node = node;
  r.inc = 1;
  r.state = NodeState::kAlive;
  r.addr = addr;
  r.labels = labels;
  r.lease_ms = 3'000;
  r.since_ms = 1'700'000'000'000;
  return r;
}

Snapshot hostile_snapshot() {
  Snapshot s;
  s.epoch = 7;
  s.version = 3;
  s.complete = true;
  s.time_ms = 1'700'000'000'000;
  s.nodes = {hostile_record("evil-1", kHostileAddr, kHostileLabels),
             hostile_record("evil-2", "\xed\xa0\x80\x1b[A", {})};
  return s;
}

// A delta of a hostile broker, following hostile_snapshot().
Delta hostile_delta() {
  Delta delta;
  delta.epoch = 7;
  delta.version = 4;
  delta.prev_version = 3;
  delta.time_ms = 1'700'000'000'001;
  delta.changes = {hostile_record("evil-3", "\xc0\xaf\n\x1b[1;1H", {{"k\x80", "\x9b"}})};
  return delta;
}

// Fails the test if `text` could drive a terminal: a C0 control other than
// the newline ending each line, DEL, a C1 control, or ill-formed UTF-8.
void expect_terminal_safe(const std::string& text, const std::string& what) {
  EXPECT_TRUE(is_valid_utf8(text)) << what << ": " << text;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    EXPECT_TRUE(byte == '\n' || (byte >= 0x20 && byte != 0x7F))
        << what << ": control byte " << int(byte) << " at " << i << " in "
        << escape_for_terminal(text);
    if (byte == 0xC2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      EXPECT_FALSE(next >= 0x80 && next <= 0x9F) << what << ": C1 control at " << i;
    }
  }
}

class RosterctlHostileBrokerTest : public ::testing::Test {
 protected:
  // Runs rosterctl `args` against the fake to completion, calling `serve`
  // on this thread (the fake's owner) until it exits.
  CommandResult run(const std::vector<std::string>& args, const std::function<void()>& serve) {
    std::vector<std::string> argv = {
        bin("rosterctl"), "--admin", fake_.admin_endpoint(), "--state", fake_.state_endpoint(),
        "--timeout",      "5s"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult result;
    std::atomic<bool> done{false};
    std::thread runner([&] {
      result = run_command(argv);
      done = true;
    });
    wait_until(
        [&] {
          serve();
          return done.load();
        },
        30s, 1ms);
    runner.join();
    return result;
  }

  // Runs an admin command, answering each of its requests with `reply`.
  CommandResult run_admin(const std::vector<std::string>& args, const AdminReply& reply) {
    int served = 0;
    return run(args, [&] {
      fake_.poll_snapshot_requests();
      if (fake_.admin_requests() > served) {
        fake_.reply(reply);
        ++served;
      }
    });
  }

  // Runs an admin command, answering each of its requests with the raw
  // reply bodies `bodies`, in order.
  CommandResult run_admin_raw(const std::vector<std::string>& args,
                              const std::vector<std::string>& bodies) {
    int served = 0;
    return run(args, [&] {
      fake_.poll_snapshot_requests();
      if (fake_.admin_requests() > served) {
        for (const std::string& body : bodies) fake_.reply_raw(body);
        ++served;
      }
    });
  }

  // `rosterctl [--json] watch` until it has seen the two nodes of
  // hostile_snapshot() (the admin reply) and the one of hostile_delta().
  CommandResult watch_json_or_text(bool as_json) {
    bool replied = false;
    bool published = false;
    std::vector<std::string> args = {"watch", "--count", "3", "--duration", "20s"};
    if (as_json) args.insert(args.begin(), "--json");
    return run(args, [&] {
      const bool subscribed = fake_.poll_subscribed();
      if (fake_.poll_snapshot_requests() > 0 && !replied) {
        fake_.reply(hostile_snapshot());
        replied = true;
      }
      if (replied && subscribed && !published) {
        fake_.publish(hostile_delta());
        published = true;
      }
    });
  }

  testing::FakeStateChannel fake_;
};

TEST_F(RosterctlHostileBrokerTest, MembersJsonIsValidJsonWithReplacedStrings) {
  CommandResult r = run_admin({"--json", "members"}, hostile_snapshot());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  expect_terminal_safe(r.out, "stdout");
  expect_terminal_safe(r.err, "stderr");
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  ASSERT_EQ(out["nodes"].size(), 2u);
  const json& evil = out["nodes"][0];
  EXPECT_EQ(evil["addr"], "10.0.0.1:80\x1b[2J\x1b[31m\r\nevil-9  1  alive\xEF\xBF\xBD");
  EXPECT_EQ(evil["labels"]["zone\xEF\xBF\xBD"], "a\nb");
  EXPECT_EQ(evil["labels"]["city"], "z\xC3\xBCrich");
  EXPECT_EQ(out["nodes"][1]["addr"], "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\x1b[A");
  EXPECT_NE(r.err.find("replaced invalid UTF-8 in 3 strings from the broker"), std::string::npos)
      << r.err;
}

// rosterctl members asks for 1 MiB parts: answers of a broker that sends
// parts, well formed or not.
std::vector<std::string> parts_of(const Snapshot& s, size_t per_part, uint64_t bad_version_at = 0) {
  std::vector<std::string> bodies;
  uint64_t index = 0;
  for (size_t i = 0; i < s.nodes.size(); i += per_part, ++index) {
    SnapshotPart part{
        s.epoch, index == bad_version_at && index > 0 ? s.version + 1 : s.version, index, {}};
    for (size_t j = i; j < std::min(s.nodes.size(), i + per_part); ++j) {
      part.nodes.push_back(s.nodes[j]);
    }
    bodies.push_back(encode(part));
  }
  bodies.push_back(
      encode(SnapshotEnd{s.epoch, s.version, s.complete, s.time_ms, index, s.nodes.size()}));
  return bodies;
}

Snapshot three_nodes() {
  NodeRecord r;
  r.inc = 1;
  r.lease_ms = 3000;
  Snapshot s{5, 9, true, 1000, {}};
  for (const char* id : {"a-1", "b-2", "c-3"}) {
    r.node = id;
    s.nodes.push_back(r);
  }
  return s;
}

TEST_F(RosterctlHostileBrokerTest, MembersAssemblesASnapshotInParts) {
  CommandResult r = run_admin_raw({"--json", "members"}, parts_of(three_nodes(), 2));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_EQ(out["nodes"].size(), 3u);
  EXPECT_EQ(out["version"], 9);
}

TEST_F(RosterctlHostileBrokerTest, MembersRefusesPartsOfAnotherVersionMidStream) {
  CommandResult r = run_admin_raw({"members"}, parts_of(three_nodes(), 1, /*bad_version_at=*/2));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("malformed snapshot from the broker: part 2 has epoch 5 version 10"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(RosterctlHostileBrokerTest, MembersRefusesTooManyParts) {
  Snapshot s = three_nodes();
  s.nodes.resize(kMaxSnapshotParts + 1, s.nodes[0]);
  CommandResult r = run_admin_raw({"members"}, parts_of(s, 1));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("more than 256 parts"), std::string::npos) << r.err;
}

TEST_F(RosterctlHostileBrokerTest, MembersReportsAMissingEnd) {
  std::vector<std::string> bodies = parts_of(three_nodes(), 1);
  bodies.pop_back();
  CommandResult r = run_admin_raw({"members"}, bodies);
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("incomplete snapshot from the broker at"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 parts and no snapshot_end"), std::string::npos) << r.err;
}

TEST_F(RosterctlHostileBrokerTest, MembersTextEscapesControlCharacters) {
  CommandResult r = run_admin({"members"}, hostile_snapshot());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  expect_terminal_safe(r.out, "stdout");
  // Header, two rows, the count: no line injected by a peer string.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;
  EXPECT_NE(r.out.find("10.0.0.1:80\\x1b[2J\\x1b[31m\\x0d\\x0aevil-9  1  alive\xEF\xBF\xBD"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("c1=\\u{009b}31m"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("role=\\x1b]0;pwned\\x07"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("zone\xEF\xBF\xBD=a\\x0ab"), std::string::npos) << r.out;
}

TEST_F(RosterctlHostileBrokerTest, NodeAndStatsSurviveInvalidUtf8) {
  NodeInfo info;
  info.record = hostile_record("evil-1", kHostileAddr, kHostileLabels);
  info.last_seen_ms = 1'700'000'000'000;
  Stats stats;
  stats.epoch = 7;
  stats.errors = {{"bad\xff\x1b[2J", 3}};
  stats.counters = {{"x\ny", 1}};
  for (const bool as_json : {true, false}) {
    std::vector<std::string> node_args = {"node", "evil-1"};
    std::vector<std::string> stats_args = {"stats"};
    if (as_json) {
      node_args.insert(node_args.begin(), "--json");
      stats_args.insert(stats_args.begin(), "--json");
    }
    for (auto [args, reply] :
         {std::pair{node_args, AdminReply(info)}, std::pair{stats_args, AdminReply(stats)}}) {
      SCOPED_TRACE(::testing::PrintToString(args));
      CommandResult r = run_admin(args, reply);
      ASSERT_EQ(r.exit_status, 0) << r.err;
      expect_terminal_safe(r.out, "stdout");
      expect_terminal_safe(r.err, "stderr");
      if (as_json) {
        EXPECT_FALSE(json::parse(r.out, nullptr, false).is_discarded()) << r.out;
      }
    }
  }
}

TEST_F(RosterctlHostileBrokerTest, ErrorMessageFromTheBrokerIsEscaped) {
  ErrorReply error(0, ErrorCode::kUnknownNode, "no node \x1b[2J\r\n\xff 'evil-1'");
  CommandResult r = run_admin({"node", "evil-1"}, error);
  EXPECT_EQ(r.exit_status, 1);
  expect_terminal_safe(r.err, "stderr");
  EXPECT_NE(r.err.find("unknown_node: no node \\x1b[2J\\x0d\\x0a\xEF\xBF\xBD 'evil-1'"),
            std::string::npos)
      << r.err;
}

TEST_F(RosterctlHostileBrokerTest, WatchJsonSurvivesInvalidUtf8InSnapshotsAndDeltas) {
  CommandResult r = watch_json_or_text(true);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  expect_terminal_safe(r.out, "stdout");
  expect_terminal_safe(r.err, "stderr");
  std::vector<json> changes;
  for (const json& line : json_lines(r.out)) {
    if (line["event"] == "change") changes.push_back(line);
  }
  ASSERT_EQ(changes.size(), 3u) << r.out;
  EXPECT_EQ(changes[0]["record"]["addr"],
            "10.0.0.1:80\x1b[2J\x1b[31m\r\nevil-9  1  alive\xEF\xBF\xBD");
  EXPECT_EQ(changes[2]["record"]["addr"], "\xEF\xBF\xBD\xEF\xBF\xBD\n\x1b[1;1H");
  EXPECT_NE(r.err.find("replaced invalid UTF-8"), std::string::npos) << r.err;
}

TEST_F(RosterctlHostileBrokerTest, WatchTextSurvivesInvalidUtf8InSnapshotsAndDeltas) {
  CommandResult r = watch_json_or_text(false);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  expect_terminal_safe(r.out, "stdout");
  expect_terminal_safe(r.err, "stderr");
  EXPECT_NE(r.out.find("evil-3 (inc 1)  - -> alive"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("replaced invalid UTF-8"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace roster

namespace roster {
namespace {

using testing::bin;
using testing::run_command;
using testing::TempDir;

TEST(RosterctlKeygenTest, WritesALoadablePairWithTheNodeGlobs) {
  TempDir dir;
  const auto r = run_command(
      {bin("rosterctl"), "keygen", dir.file("web"), "--node", "web-*", "--node", "api-1"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto pub = load_certificate(dir.file("web"));
  const auto sec = load_certificate(dir.file("web_secret"));
  EXPECT_EQ(pub.secret_key, "");
  EXPECT_EQ(sec.public_key, pub.public_key);
  EXPECT_FALSE(sec.secret_key.empty());
  EXPECT_EQ(pub.metadata.at("name"), "web");
  EXPECT_EQ(certificate_node_globs(pub), (std::vector<std::string>{"web-*", "api-1"}));
  EXPECT_NE(r.out.find(pub.public_key), std::string::npos) << r.out;
}

TEST(RosterctlKeygenTest, RefusesToOverwriteWithoutForce) {
  TempDir dir;
  ASSERT_EQ(run_command({bin("rosterctl"), "keygen", dir.file("k")}).exit_status, 0);
  const auto first = load_certificate(dir.file("k"));
  const auto again = run_command({bin("rosterctl"), "keygen", dir.file("k")});
  EXPECT_EQ(again.exit_status, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  EXPECT_EQ(load_certificate(dir.file("k")).public_key, first.public_key);
  ASSERT_EQ(run_command({bin("rosterctl"), "keygen", dir.file("k"), "--force"}).exit_status, 0);
  EXPECT_NE(load_certificate(dir.file("k")).public_key, first.public_key);
}

TEST(RosterctlKeygenTest, RejectsAGlobWithAComma) {
  TempDir dir;
  const auto r = run_command({bin("rosterctl"), "keygen", dir.file("k"), "--node", "a,b"});
  EXPECT_EQ(r.exit_status, 2);
}

}  // namespace
}  // namespace roster
