// A private temporary directory for one test, removed with everything in it at scope exit.
//
// Lives under /tmp (not TMPDIR) so Unix socket paths inside it stay well below the 108-byte
// sun_path limit. Not thread-safe; one owner.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace dollhouse::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/dh-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace dollhouse::testing
