#include "logging.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "log_format.h"

namespace roster::broker {

namespace {
// Lines queued for the logging thread; beyond this the oldest are dropped.
constexpr size_t kQueueLines = 8192;
}  // namespace

void start_logging(const std::string& level, const std::string& format) {
  spdlog::init_thread_pool(kQueueLines, 1);
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>(
      "roster-broker", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::overrun_oldest);
  logger->set_level(spdlog::level::from_str(level));
  logger->set_formatter(service::make_log_formatter(
      service::parse_log_format(format).value_or(service::LogFormat::kText),
      service::stderr_is_journal()));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void set_log_level(const std::string& level) {
  spdlog::default_logger()->set_level(spdlog::level::from_str(level));
}

void stop_logging() {
  spdlog::shutdown();
}

}  // namespace roster::broker
