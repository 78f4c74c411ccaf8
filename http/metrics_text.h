// The Prometheus side of the HTTP endpoints: the text exposition format of
// a registry (what /metrics serves) and the roster_build_info gauge both
// programs carry.
#pragma once

#include <string>

#include <prometheus/registry.h>

namespace roster::http {

// The content type of the text exposition format, version 0.0.4.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Every metric of `registry`, in the text exposition format. Safe to call
// from any thread while others update the metrics (prometheus-cpp's
// collection is thread-safe).
std::string metrics_text(prometheus::Registry& registry);

// Adds roster_build_info{program, version, revision} = 1 to `registry`.
void add_build_info(prometheus::Registry& registry, const std::string& program,
                    const std::string& version, const std::string& revision);

}  // namespace roster::http
