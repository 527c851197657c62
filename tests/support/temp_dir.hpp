// A private temporary directory for one test, removed with everything in it at scope exit, and
// names for local endpoints that belong to it.
//
// POSIX: under /tmp (not TMPDIR) so Unix socket paths inside it stay well below the 108-byte
// sun_path limit. Windows: under the user's temp directory. Not thread-safe; one owner.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

namespace dollhouse::testing {

class TempDir {
 public:
  TempDir() {
#ifdef _WIN32
    std::random_device random;
    for (int attempt = 0; attempt < 100 && path_.empty(); ++attempt) {
      name_ = "dh-test-" + std::to_string(random());
      auto candidate = std::filesystem::temp_directory_path() / name_;
      std::error_code ec;
      if (std::filesystem::create_directory(candidate, ec)) path_ = candidate.string();
    }
    if (path_.empty()) throw std::runtime_error("cannot create a temporary directory");
#else
    std::string pattern = "/tmp/dh-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    name_ = path_.substr(5);
#endif
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const {
    return path_;
  }
  std::string file(const std::string& name) const {
#ifdef _WIN32
    return path_ + "\\" + name;
#else
    return path_ + "/" + name;
#endif
  }
  // Where a test daemon listens: a socket file in this directory on POSIX, a pipe name unique
  // to this directory on Windows.
  std::string endpoint(const std::string& name) const {
#ifdef _WIN32
    return "\\\\.\\pipe\\" + name_ + "-" + name;
#else
    return file(name);
#endif
  }

 private:
  std::string path_;
  std::string name_;
};

}  // namespace dollhouse::testing
