#include "broker_list.h"

#include <iostream>

#include "admin_client.h"

namespace roster::ctl {

namespace {

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::optional<std::vector<std::string>> split_endpoints(const std::string& text,
                                                        std::string* error) {
  std::vector<std::string> endpoints;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item =
        trimmed(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) {
      if (error) *error = "empty endpoint in the list '" + text + "'";
      return std::nullopt;
    }
    endpoints.push_back(item);
    if (comma == std::string::npos) return endpoints;
    start = comma + 1;
  }
}

std::optional<AdminReply> call_first_or_report(const std::vector<std::string>& endpoints,
                                               const AdminRequest& request, uint64_t timeout_ms,
                                               const CurveClientOptions& curve) {
  for (size_t i = 0; i + 1 < endpoints.size(); ++i) {
    AdminCall call = call_admin(endpoints[i], request, timeout_ms, curve);
    if (call.reply) return reply_or_report(std::move(call));
    std::cerr << "rosterctl: " << endpoints[i] << ": " << call.error
              << "; asking the next broker\n";
  }
  return call_admin_or_report(endpoints.back(), request, timeout_ms, curve);
}

}  // namespace roster::ctl
