// The CURVE keys one broker endpoint admits, loaded from a directory of
// public certificates (certificate_directory.h), and what each agent key may
// claim. A KeySet is a value: SIGHUP builds a new one and swaps it in.
//
// Thread safety: none; a const KeySet may be read from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace roster::broker {

// One allowed key.
struct AllowedKey {
  std::string name;                     // metadata "name", else the file name
  std::vector<std::string> node_globs;  // metadata "node", comma-separated
};

class KeySet {
 public:
  // Admits no key.
  KeySet() = default;
  // Admits every CURVE client (--subscriber-keys any).
  static KeySet any();
  // Every public certificate in `dir`; each skipped file is appended to
  // *skipped as "FILE: reason". Throws std::runtime_error (naming the
  // directory) when it cannot be read. Two files with one key: the first
  // in file-name order is kept, the other listed as skipped.
  static KeySet load(const std::string& dir, std::vector<std::string>* skipped);

  bool admits_any() const { return any_; }
  // The key of a Z85 public key, or nullptr if not admitted (also with
  // admits_any(): `any` keys have no entry).
  const AllowedKey* find(std::string_view z85_public_key) const;
  bool admits(std::string_view z85_public_key) const {
    return any_ || find(z85_public_key) != nullptr;
  }
  size_t size() const { return keys_.size(); }
  // Iteration for reload reports: Z85 public key -> key.
  const std::map<std::string, AllowedKey, std::less<>>& keys() const { return keys_; }

 private:
  bool any_ = false;
  // Ordered, so find() looks a string_view up without copying it (no
  // allocation per request).
  std::map<std::string, AllowedKey, std::less<>> keys_;
};

// True iff one of `key`'s globs (fnmatch(3), no flags) matches `node`. A key
// without globs claims nothing.
bool may_claim(const AllowedKey& key, std::string_view node);

}  // namespace roster::broker
