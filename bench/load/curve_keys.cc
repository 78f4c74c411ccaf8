#include "curve_keys.h"

#include <exception>
#include <filesystem>

#include "roster/curve_certificate.h"

namespace roster::bench {

std::optional<BenchKeys> make_bench_keys(const std::string& work_dir, std::string* error) {
  const std::filesystem::path dir = std::filesystem::path(work_dir) / "curve";
  BenchKeys keys;
  try {
    std::filesystem::create_directories(dir / "agents");
    std::filesystem::create_directories(dir / "admin");
    CurveCertificate broker = generate_certificate();
    broker.metadata["name"] = "bench-broker";
    save_certificate(broker, (dir / "broker").string());
    CurveCertificate client = generate_certificate();
    client.metadata["name"] = "bench";
    client.metadata["node"] = "*";
    save_certificate(client, (dir / "agents" / "bench").string());
    // Only public certificates in the key directories.
    std::filesystem::rename(dir / "agents" / "bench_secret", dir / "bench_secret");
    std::filesystem::copy_file(dir / "agents" / "bench", dir / "admin" / "bench");
    keys.broker_secret_file = (dir / "broker_secret").string();
    keys.agent_keys_dir = (dir / "agents").string();
    keys.admin_keys_dir = (dir / "admin").string();
    keys.client = CurveClientKeys{client.public_key, client.secret_key, broker.public_key};
  } catch (const std::exception& e) {
    *error = std::string("cannot write the CURVE keys: ") + e.what();
    return std::nullopt;
  }
  return keys;
}

}  // namespace roster::bench
