// roster_fuzz_seeds OUTDIR: writes the seed corpus of every fuzz target to
// OUTDIR/<target>/ (one file per seed, replacing earlier seeds of the same
// name) and the dictionary to OUTDIR/roster.dict. scripts/fuzz.sh runs it.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "seeds.h"

namespace fs = std::filesystem;

namespace {

bool write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: roster_fuzz_seeds OUTDIR\n";
    return 2;
  }
  const fs::path root(argv[1]);
  std::error_code ec;
  for (const std::string& target : roster::fuzz::target_names()) {
    const fs::path dir = root / target;
    fs::create_directories(dir, ec);
    size_t written = 0;
    for (const roster::fuzz::Seed& seed : roster::fuzz::seeds_for(target)) {
      if (!write_file(dir / ("seed-" + seed.name), seed.body)) {
        std::cerr << "roster_fuzz_seeds: cannot write " << (dir / seed.name) << "\n";
        return 1;
      }
      ++written;
    }
    std::cout << target << ": " << written << " seeds\n";
  }
  if (!write_file(root / "roster.dict", roster::fuzz::dictionary())) {
    std::cerr << "roster_fuzz_seeds: cannot write the dictionary\n";
    return 1;
  }
  return 0;
}
