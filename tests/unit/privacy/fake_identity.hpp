// The fixed, fictional person and machine every privacy test scrubs against.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "privacy/privacy.hpp"

namespace dollhouse::privacy::testing {

inline MachineIdentity fake_identity() {
  MachineIdentity who;
  who.user_names = {"alice.liddell"};
  who.real_names = {"Alice Liddell"};
  who.host_names = {"wonderland-laptop.local", "wonderland-laptop"};
  who.home_dirs = {"/home/alice.liddell"};
  return who;
}

struct CorpusLine {
  std::string input;
  std::string expected;  // equal to input when the file gives no expectation
  bool has_expected = false;
};

// Reads tests/data/<name>: one string per line, optionally "<TAB>expected"; '#' lines and blank
// lines are comments.
inline std::vector<CorpusLine> read_corpus(const std::string& name) {
  const char* root = std::getenv("DOLLHOUSE_SOURCE_DIR");
  std::ifstream in(std::string(root ? root : ".") + "/tests/data/" + name);
  std::vector<CorpusLine> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    CorpusLine entry;
    const auto tab = line.find('\t');
    entry.input = line.substr(0, tab);
    entry.has_expected = tab != std::string::npos;
    entry.expected = entry.has_expected ? line.substr(tab + 1) : entry.input;
    lines.push_back(std::move(entry));
  }
  return lines;
}

}  // namespace dollhouse::privacy::testing
