// redis: what users would pick instead, measured in the same run. A
// redis-server (redis_server.h) holds one key per member, `SET key value
// PX ttl`, and a subscriber follows keyspace events (`expired`, `del`), the
// usual way to build membership on Redis. The figures mirror roster's:
//   expiry past the TTL   (detection: suspect seen past the lease end), with
//                         few keys and with many live keys besides (Redis
//                         finds expired keys by scanning ~20 keys per
//                         100 ms, so many keys delay it);
//   DEL -> `del` event    (leave: leave sent -> subscriber sees left);
//   used_memory per key   (memory: RSS per tracked node);
//   SET PX per second     (ingest: heartbeats acked per second), one
//                         connection, unpipelined and pipelined x16.
// The ratios to roster use the figures of the scenarios that ran earlier
// in the run. Skipped (not failed) when roster-bench was built without
// hiredis or no redis-server is installed.
#include "scenario.h"

#ifdef ROSTER_BENCH_HIREDIS
#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>
#include <cstdarg>
#include <thread>
#include <unordered_map>

#include "latency_stats.h"
#include "redis_server.h"
#endif

namespace roster::bench {

#ifndef ROSTER_BENCH_HIREDIS

ScenarioResult run_redis(BenchContext&) {
  ScenarioResult r("redis");
  r.metrics["skipped"] = "roster-bench was built without hiredis (libhiredis-dev)";
  r.row("skipped", "built without hiredis (install libhiredis-dev and reconfigure)");
  return r;
}

#else

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kExpiredChannel = "__keyevent@0__:expired";
constexpr const char* kDelChannel = "__keyevent@0__:del";
// What a member's key holds: about what a membership record names.
constexpr const char* kValue = "inc=1764633600000;addr=10.0.0.1:7000";
// Commands in flight per round trip when loading many keys.
constexpr size_t kLoadBatch = 256;
constexpr size_t kPipelineDepth = 16;
// Keys the expiry scan looks at per cycle at the default `hz 10`
// (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP), i.e. keys per second of scan.
constexpr double kScannedKeysPerSecond = 20 * 10;

// Per mode: live keys besides the watched ones in the many-keys expiry
// test, the watched keys, and the keys of the memory figure.
struct RedisSizes {
  size_t background_keys;
  size_t watched_keys;
};

RedisSizes sizes_for(Mode mode) {
  switch (mode) {
    case Mode::kFull:
      return {10'000, 20};
    case Mode::kQuick:
      return {1'000, 10};
    case Mode::kSmoke:
      break;
  }
  return {100, 5};
}

int64_t micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// One hiredis connection; nullptr-safe owner.
struct Connection {
  redisContext* c = nullptr;
  explicit Connection(int port) {
    const timeval timeout{10, 0};
    c = redisConnectWithTimeout("127.0.0.1", port, timeout);
  }
  ~Connection() {
    if (c) redisFree(c);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  bool ok() const { return c && !c->err; }
  std::string error() const { return c ? std::string(c->errstr) : "out of memory"; }
};

// Runs a command; false with *error set when it failed or Redis answered
// with an error. *text receives a string or status reply.
bool run(Connection& conn, std::string* error, std::string* text, const char* format, ...) {
  va_list args;
  va_start(args, format);
  auto* reply = static_cast<redisReply*>(redisvCommand(conn.c, format, args));
  va_end(args);
  if (!reply) {
    *error = conn.error();
    return false;
  }
  const bool ok = reply->type != REDIS_REPLY_ERROR;
  if (!ok) *error = std::string(reply->str, reply->len);
  if (ok && text && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS)) {
    *text = std::string(reply->str, reply->len);
  }
  freeReplyObject(reply);
  return ok;
}

// Reads `count` pipelined replies; false with *error on the first failure.
bool read_replies(Connection& conn, size_t count, std::string* error) {
  for (size_t i = 0; i < count; ++i) {
    void* raw = nullptr;
    if (redisGetReply(conn.c, &raw) != REDIS_OK || !raw) {
      *error = conn.error();
      return false;
    }
    auto* reply = static_cast<redisReply*>(raw);
    const bool ok = reply->type != REDIS_REPLY_ERROR;
    if (!ok) *error = std::string(reply->str, reply->len);
    freeReplyObject(reply);
    if (!ok) return false;
  }
  return true;
}

// SET key value PX ttl_ms for every key, kLoadBatch per round trip.
bool load_keys(Connection& conn, const std::vector<std::string>& keys, uint64_t ttl_ms,
               std::string* error) {
  const std::string ttl = std::to_string(ttl_ms);
  for (size_t first = 0; first < keys.size(); first += kLoadBatch) {
    const size_t end = std::min(keys.size(), first + kLoadBatch);
    for (size_t i = first; i < end; ++i) {
      redisAppendCommand(conn.c, "SET %s %s PX %s", keys[i].c_str(), kValue, ttl.c_str());
    }
    if (!read_replies(conn, end - first, error)) return false;
  }
  return true;
}

// The integer field `name` of an INFO section, or -1.
int64_t info_field(Connection& conn, const char* section, const std::string& name,
                   std::string* error) {
  std::string text;
  if (!run(conn, error, &text, "INFO %s", section)) return -1;
  const std::string prefix = name + ":";
  const size_t at = text.find("\r\n" + prefix);
  if (at == std::string::npos) return -1;
  return std::strtoll(text.c_str() + at + 2 + prefix.size(), nullptr, 10);
}

// A connection subscribed to the expired and del keyevent channels that
// records when each key's first event of each kind was read.
class KeyEvents {
 public:
  explicit KeyEvents(int port) : conn_(port) {}

  bool subscribe(std::string* error) {
    if (!conn_.ok()) {
      *error = conn_.error();
      return false;
    }
    auto* reply = static_cast<redisReply*>(
        redisCommand(conn_.c, "SUBSCRIBE %s %s", kExpiredChannel, kDelChannel));
    if (!reply) {
      *error = conn_.error();
      return false;
    }
    freeReplyObject(reply);
    return true;
  }

  // Reads events until `until`, or until `done` holds.
  template <typename Done>
  bool wait(Clock::time_point until, Done done, std::string* error) {
    for (;;) {
      if (!take_parsed(error)) return false;
      const auto now = Clock::now();
      if (done() || now >= until) return true;
      pollfd p{conn_.c->fd, POLLIN, 0};
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
      if (::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(ms, 0, 100))) > 0 &&
          redisBufferRead(conn_.c) != REDIS_OK) {
        *error = conn_.error();
        return false;
      }
    }
  }
  bool wait(Clock::time_point until, std::string* error) {
    return wait(
        until, [] { return false; }, error);
  }

  const std::unordered_map<std::string, Clock::time_point>& expired() const { return expired_; }
  const std::unordered_map<std::string, Clock::time_point>& deleted() const { return deleted_; }
  void clear() {
    expired_.clear();
    deleted_.clear();
  }

 private:
  bool take_parsed(std::string* error) {
    for (;;) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(conn_.c, &raw) != REDIS_OK) {
        *error = conn_.error();
        return false;
      }
      if (!raw) return true;
      const auto now = Clock::now();
      auto* reply = static_cast<redisReply*>(raw);
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
          std::string(reply->element[0]->str, reply->element[0]->len) == "message") {
        const std::string channel(reply->element[1]->str, reply->element[1]->len);
        std::string key(reply->element[2]->str, reply->element[2]->len);
        auto& seen = channel == kExpiredChannel ? expired_ : deleted_;
        seen.emplace(std::move(key), now);
      }
      freeReplyObject(reply);
    }
  }

  Connection conn_;
  std::unordered_map<std::string, Clock::time_point> expired_;
  std::unordered_map<std::string, Clock::time_point> deleted_;
};

// Sets `keys` with PX `ttl`, `spacing` apart, reading events meanwhile,
// then waits until all expired or `patience` after the last TTL. Adds
// (event time - SET time - TTL) per key to *late; returns the keys never
// seen expiring, or -1 with *error set.
int64_t expiry_delays(Connection& ctl, KeyEvents& events, const std::vector<std::string>& keys,
                      std::chrono::milliseconds ttl, std::chrono::milliseconds spacing,
                      std::chrono::milliseconds patience, LatencySamples* late,
                      std::string* error) {
  std::vector<Clock::time_point> set_at(keys.size());
  const auto start = Clock::now();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!events.wait(start + static_cast<int64_t>(i) * spacing, error)) return -1;
    set_at[i] = Clock::now();
    if (!run(ctl, error, nullptr, "SET %s %s PX %lld", keys[i].c_str(), kValue,
             static_cast<long long>(ttl.count()))) {
      return -1;
    }
  }
  const auto until = Clock::now() + ttl + patience;
  auto all_seen = [&] {
    return std::all_of(keys.begin(), keys.end(),
                       [&](const std::string& k) { return events.expired().count(k) > 0; });
  };
  if (!events.wait(until, all_seen, error)) return -1;
  int64_t missed = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto seen = events.expired().find(keys[i]);
    if (seen == events.expired().end()) {
      ++missed;
      continue;
    }
    late->add_us(micros(seen->second - set_at[i] - ttl));
  }
  return missed;
}

// SET PX per second over one connection for `duration`, `depth` commands
// per round trip, cycling over `keys`; *cpu_us_per_set gets the server's
// CPU per SET. 0 with *error set on failure.
double set_rate(Connection& conn, pid_t server, const std::vector<std::string>& keys, size_t depth,
                std::chrono::milliseconds duration, double* cpu_us_per_set, std::string* error) {
  size_t next = 0;
  uint64_t done = 0;
  const double cpu_before = process_cpu_seconds(server);
  const auto start = Clock::now();
  const auto until = start + duration;
  while (Clock::now() < until) {
    for (size_t i = 0; i < depth; ++i) {
      redisAppendCommand(conn.c, "SET %s %s PX 10000", keys[next].c_str(), kValue);
      next = (next + 1) % keys.size();
    }
    if (!read_replies(conn, depth, error)) return 0;
    done += depth;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  *cpu_us_per_set = (process_cpu_seconds(server) - cpu_before) * 1e6 / static_cast<double>(done);
  return static_cast<double>(done) / seconds;
}

// The metrics of the earlier scenario `name` of this run, or null.
const nlohmann::json* earlier(const BenchContext& ctx, const std::string& name) {
  if (!ctx.results) return nullptr;
  for (const auto& r : *ctx.results) {
    if (r.name == name && r.ran) return &r.metrics;
  }
  return nullptr;
}

// metrics[a][b] as a number, or nullopt.
std::optional<double> number_at(const nlohmann::json* metrics, const std::string& a,
                                const std::string& b = "") {
  if (!metrics || !metrics->contains(a)) return std::nullopt;
  const nlohmann::json& v = b.empty() ? metrics->at(a) : metrics->at(a).value(b, nlohmann::json());
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

// "x12.3" (how many times `redis` is `roster`), or "" when either is missing.
std::string times(std::optional<double> redis, std::optional<double> roster) {
  if (!redis || !roster || *roster <= 0) return "";
  const double ratio = *redis / *roster;
  return "x" + fixed(ratio, ratio >= 10 ? 0 : (ratio >= 1 ? 1 : 2));
}

// " (roster: ...; ...)" after a Redis figure, or " (roster: not run)".
std::string versus(const std::string& roster_text, const std::string& ratio) {
  if (roster_text.empty()) return " (roster: not run in this run)";
  return " (roster: " + roster_text + (ratio.empty() ? "" : "; " + ratio) + ")";
}

}  // namespace

ScenarioResult run_redis(BenchContext& ctx) {
  const BenchConfig& config = ctx.config;
  ScenarioResult r("redis");
  const std::string executable = find_redis_server();
  if (executable.empty()) {
    r.metrics["skipped"] = "no redis-server on PATH";
    r.row("skipped", "no redis-server on PATH (apt install redis-server)");
    return r;
  }
  std::string error;
  auto server = RedisServer::start(executable, &error);
  if (!server) {
    r.fail(error);
    return r;
  }
  Connection ctl(server->port());
  KeyEvents events(server->port());
  if (!ctl.ok()) {
    r.fail("connect: " + ctl.error());
    return r;
  }
  if (!events.subscribe(&error)) {
    r.fail("subscribe: " + error);
    return r;
  }
  std::string version;
  {
    std::string text;
    if (run(ctl, &error, &text, "INFO server")) {
      const size_t at = text.find("redis_version:");
      if (at != std::string::npos) version = text.substr(at + 14, text.find('\r', at) - at - 14);
    }
  }
  r.metrics["redis_version"] = version;
  const RedisSizes sizes = sizes_for(config.mode);
  const std::chrono::milliseconds ttl(config.detection_lease_ms);

  // Expiry with few keys: the detection scenario's count, lease and spacing.
  LatencySamples few;
  const int64_t few_missed =
      expiry_delays(ctl, events, node_names("few-", config.detection_nodes), ttl,
                    config.detection_spacing, std::chrono::seconds(5), &few, &error);
  if (few_missed < 0) {
    r.fail("expiry, few keys: " + error);
    return r;
  }

  // Expiry among many live keys: a full scan takes keys / 200 s.
  run(ctl, &error, nullptr, "FLUSHALL");
  events.clear();
  LatencySamples many;
  if (!load_keys(ctl, node_names("live-", sizes.background_keys), 3'600'000, &error)) {
    r.fail("loading live keys: " + error);
    return r;
  }
  const auto scan = std::chrono::milliseconds(static_cast<int64_t>(
      1000.0 * static_cast<double>(sizes.background_keys) / kScannedKeysPerSecond));
  const int64_t many_missed = expiry_delays(
      ctl, events, node_names("gone-", sizes.watched_keys), ttl, config.detection_spacing,
      scan + scan / 2 + std::chrono::seconds(5), &many, &error);
  if (many_missed < 0) {
    r.fail("expiry, many keys: " + error);
    return r;
  }

  // DEL -> del event: the leave scenario's count and spacing.
  run(ctl, &error, nullptr, "FLUSHALL");
  events.clear();
  const std::vector<std::string> leaving = node_names("leave-", config.leave_nodes);
  if (!load_keys(ctl, leaving, 60'000, &error)) {
    r.fail("loading keys: " + error);
    return r;
  }
  LatencySamples del;
  std::vector<Clock::time_point> del_at(leaving.size());
  const auto del_start = Clock::now();
  for (size_t i = 0; i < leaving.size(); ++i) {
    if (!events.wait(del_start + static_cast<int64_t>(i) * config.leave_spacing, &error)) break;
    del_at[i] = Clock::now();
    if (!run(ctl, &error, nullptr, "DEL %s", leaving[i].c_str())) break;
  }
  events.wait(
      Clock::now() + std::chrono::seconds(5),
      [&] { return events.deleted().size() >= leaving.size(); }, &error);
  size_t del_missed = 0;
  for (size_t i = 0; i < leaving.size(); ++i) {
    auto seen = events.deleted().find(leaving[i]);
    if (seen == events.deleted().end()) {
      ++del_missed;
    } else {
      del.add_us(micros(seen->second - del_at[i]));
    }
  }

  // Memory per key: the memory scenario's count.
  run(ctl, &error, nullptr, "FLUSHALL");
  const int64_t used_before = info_field(ctl, "memory", "used_memory", &error);
  const uint64_t rss_before = rss_kib(server->pid());
  if (!load_keys(ctl, node_names("mem-", config.memory_nodes), 3'600'000, &error)) {
    r.fail("loading keys: " + error);
    return r;
  }
  const int64_t used_after = info_field(ctl, "memory", "used_memory", &error);
  const uint64_t rss_after = rss_kib(server->pid());
  const double keys = static_cast<double>(config.memory_nodes);
  const double bytes_per_key = static_cast<double>(used_after - used_before) / keys;
  const double rss_per_key =
      static_cast<double>(rss_after - std::min(rss_after, rss_before)) * 1024.0 / keys;

  // SET PX throughput, like heartbeats over the ingest scenario's node ids.
  run(ctl, &error, nullptr, "FLUSHALL");
  const std::vector<std::string> beating = node_names("node-", config.ingest_nodes);
  const auto phase = config.saturate_for / 2;
  double cpu_single = 0;
  double cpu_piped = 0;
  const double single = set_rate(ctl, server->pid(), beating, 1, phase, &cpu_single, &error);
  const double piped =
      single > 0 ? set_rate(ctl, server->pid(), beating, kPipelineDepth, phase, &cpu_piped, &error)
                 : 0;
  if (piped <= 0) {
    r.fail("SET PX: " + error);
    return r;
  }

  r.metrics["few_keys"] = {{"keys", config.detection_nodes},
                           {"ttl_ms", ttl.count()},
                           {"expired_past_ttl", few.summary()},
                           {"never_expired", few_missed}};
  r.metrics["many_keys"] = {{"live_keys", sizes.background_keys},
                            {"watched_keys", sizes.watched_keys},
                            {"ttl_ms", ttl.count()},
                            {"expired_past_ttl", many.summary()},
                            {"never_expired", many_missed}};
  r.metrics["del_to_event"] = del.summary();
  r.metrics["del_never_seen"] = del_missed;
  r.metrics["memory_keys"] = config.memory_nodes;
  r.metrics["used_memory_bytes_per_key"] = bytes_per_key;
  r.metrics["rss_bytes_per_key"] = rss_per_key;
  r.metrics["set_px_per_s"] = single;
  r.metrics["set_px_pipelined16_per_s"] = piped;
  r.metrics["server_cpu_us_per_set"] = cpu_single;
  r.metrics["server_cpu_us_per_set_pipelined16"] = cpu_piped;

  const nlohmann::json* detection = earlier(ctx, "detection");
  const nlohmann::json* leave = earlier(ctx, "leave");
  const nlohmann::json* memory = earlier(ctx, "memory");
  const nlohmann::json* ingest = earlier(ctx, "ingest");
  auto p50_max = [](const nlohmann::json* m, const std::string& key) {
    auto p50 = number_at(m, key, "p50_ms");
    auto max = number_at(m, key, "max_ms");
    return (p50 && max) ? fixed(*p50, 2) + " / " + fixed(*max, 2) + " ms" : std::string();
  };
  auto ratio_text = [&](const nlohmann::json& redis_summary, const nlohmann::json* m,
                        const std::string& key) {
    const auto rp50 = redis_summary.value("p50_ms", nlohmann::json());
    const auto rmax = redis_summary.value("max_ms", nlohmann::json());
    if (!rp50.is_number() || !rmax.is_number()) return std::string();
    const std::string a = times(rp50.get<double>(), number_at(m, key, "p50_ms"));
    const std::string b = times(rmax.get<double>(), number_at(m, key, "max_ms"));
    return a.empty() || b.empty() ? std::string() : a + " / " + b;
  };
  nlohmann::json vs;
  vs["detection_p50_ratio"] = nullptr;
  if (auto a = number_at(detection, "overshoot", "p50_ms"); a && !few.empty()) {
    vs["detection_p50_ratio"] = few.quantile_ms(0.5) / *a;
  }
  vs["leave_p50_ratio"] = nullptr;
  if (auto a = number_at(leave, "propagation", "p50_ms"); a && !del.empty()) {
    vs["leave_p50_ratio"] = del.quantile_ms(0.5) / *a;
  }
  vs["memory_ratio"] = nullptr;
  if (auto a = number_at(memory, "bytes_per_node"); a && *a > 0) {
    vs["memory_ratio"] = bytes_per_key / *a;
  }
  vs["ingest_over_set_px"] = nullptr;
  vs["ingest_over_set_px_pipelined16"] = nullptr;
  if (auto a = number_at(ingest, "saturated", "acks_per_s")) {
    vs["ingest_over_set_px"] = *a / single;
    vs["ingest_over_set_px_pipelined16"] = *a / piped;
  }
  r.metrics["vs_roster"] = vs;

  r.row("Redis version", version);
  r.row("expired past TTL, " + std::to_string(config.detection_nodes) + " keys, p50 / max",
        (few.empty() ? std::string("none")
                     : fixed(few.quantile_ms(0.5), 1) + " / " + fixed(few.max_ms(), 1) + " ms") +
            versus(p50_max(detection, "overshoot"),
                   ratio_text(few.summary(), detection, "overshoot")));
  r.row("expired past TTL, " + std::to_string(sizes.watched_keys) + " among " +
            std::to_string(sizes.background_keys) + " live, p50 / max",
        many.empty() ? std::string("none")
                     : fixed(many.quantile_ms(0.5) / 1000, 1) + " / " +
                           fixed(many.max_ms() / 1000, 1) + " s");
  if (few_missed + many_missed > 0) {
    r.row("keys never seen expiring", std::to_string(few_missed + many_missed));
  }
  r.row("DEL -> del event, " + std::to_string(leaving.size()) + " keys, p50 / max",
        (del.empty() ? std::string("none")
                     : fixed(del.quantile_ms(0.5), 2) + " / " + fixed(del.max_ms(), 2) + " ms") +
            versus(p50_max(leave, "propagation"), ratio_text(del.summary(), leave, "propagation")));
  auto roster_bytes = number_at(memory, "bytes_per_node");
  r.row("used_memory; RSS per key (" + std::to_string(config.memory_nodes) + " keys)",
        fixed(bytes_per_key, 0) + " B; " + fixed(rss_per_key, 0) + " B" +
            versus(roster_bytes ? fixed(*roster_bytes, 0) + " B RSS per node" : "",
                   times(bytes_per_key, roster_bytes)));
  auto roster_rate = number_at(ingest, "saturated", "acks_per_s");
  r.row("SET PX/s, 1 connection: single; pipelined x16",
        fixed(single, 0) + "; " + fixed(piped, 0) +
            versus(roster_rate ? fixed(*roster_rate, 0) + " heartbeats/s" : "",
                   roster_rate ? "roster/Redis x" + fixed(*roster_rate / single, 1) + "; x" +
                                     fixed(*roster_rate / piped, 1)
                               : ""));
  r.row("redis-server CPU per SET: single; pipelined x16",
        fixed(cpu_single, 2) + "; " + fixed(cpu_piped, 2) + " us");
  if (del_missed > 0) r.fail(std::to_string(del_missed) + " DELs never seen as events");
  r.metrics["redis_exit_status"] = server->stop();
  return r;
}

#endif

}  // namespace roster::bench
