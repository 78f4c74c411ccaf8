#include "metrics_text.h"

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

namespace roster::http {

std::string metrics_text(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

void add_build_info(prometheus::Registry& registry, const std::string& program,
                    const std::string& version, const std::string& revision) {
  prometheus::BuildGauge()
      .Name("roster_build_info")
      .Help("Always 1; the labels name the program, its version and git revision")
      .Register(registry)
      .Add({{"program", program}, {"version", version}, {"revision", revision}})
      .Set(1);
}

}  // namespace roster::http
