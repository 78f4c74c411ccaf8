// Fuzz target: what a hostile broker answers on the admin endpoint, as
// rosterctl and the subscriber decode it (decode_admin_reply). Decoded
// strings are valid UTF-8 and re-encode to themselves, and rosterctl's
// renderings (JSON lines, labels for a terminal) take them without
// throwing and print ASCII-safe text.
#include <map>
#include <string>
#include <type_traits>
#include <variant>

#include "fuzz_support.h"
#include "json_format.h"
#include "text_format.h"

using namespace roster;
using namespace roster::fuzz;

namespace {

bool utf8(const std::map<std::string, uint64_t>& counts) {
  for (const auto& [name, count] : counts) {
    if (!is_valid_utf8(name)) return false;
  }
  return true;
}

// Every string of `reply` is valid UTF-8.
bool strings_valid(const AdminReply& reply) {
  return std::visit(
      [](const auto& m) -> bool {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Snapshot>) {
          return fuzz::utf8(m.nodes);
        } else if constexpr (std::is_same_v<T, NodeInfo>) {
          return fuzz::utf8(m.record);
        } else if constexpr (std::is_same_v<T, RemovedReply>) {
          return is_valid_utf8(m.node);
        } else if constexpr (std::is_same_v<T, Stats>) {
          return utf8(m.by_state) && utf8(m.errors) && utf8(m.counters);
        } else {
          return is_valid_utf8(m.message);
        }
      },
      reply);
}

// rosterctl's JSON line for `reply` (what `--json` prints).
std::string json_line(const AdminReply& reply) {
  return std::visit(
      [](const auto& m) -> std::string {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, ErrorReply>) {
          return ctl::dump_line(nlohmann::json{{"error", m.message}});
        } else {
          return ctl::dump_line(ctl::to_json(m));
        }
      },
      reply);
}

bool printable_ascii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Valid UTF-8 without C0 controls or DEL: safe to print on a terminal.
bool terminal_safe(std::string_view text) {
  for (char c : text) {
    if ((c >= 0 && c < 0x20) || c == 0x7f) return false;
  }
  return is_valid_utf8(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoded<AdminReply> decoded = decode_admin_reply(as_body(data, size));
  if (!decoded.ok()) {
    check_error(decoded.error());
    return 0;
  }
  const AdminReply& reply = decoded.value();
  ROSTER_FUZZ_CHECK(strings_valid(reply));
  check_round_trip(reply, decoded.replaced_strings(), decode_admin_reply);
  ROSTER_FUZZ_CHECK(printable_ascii(json_line(reply)));
  if (const auto* snapshot = std::get_if<Snapshot>(&reply)) {
    for (const NodeRecord& r : snapshot->nodes) {
      ROSTER_FUZZ_CHECK(terminal_safe(ctl::format_labels(r.labels)));
      ROSTER_FUZZ_CHECK(terminal_safe(escape_for_terminal(r.addr)));
    }
  }
  return 0;
}
