// The seed corpus of the fuzz targets, built with the codec itself so that
// it never drifts from it: valid messages of every type each target reads
// (continuing the targets' fixtures, so that every rule of the consumer is
// reached) plus a few known-malformed ones, and a dictionary of the wire's
// keys and spellings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace roster::fuzz {

struct Seed {
  std::string name;  // a file name
  std::string body;  // the input, as the target reads it
};

// The names of the fuzz targets, without the fuzz_ prefix.
const std::vector<std::string>& target_names();

// The seeds of `target` (one of target_names()); empty for another name.
std::vector<Seed> seeds_for(std::string_view target);

// A libFuzzer dictionary (-dict=) of msgpack strings and headers common to
// every target.
std::string dictionary();

}  // namespace roster::fuzz
