// A small tmpfs that a test fills and frees, so the daemon meets a disk that is really full:
// mounted at a directory of the test's own, filled with a file that takes every free byte, and
// unmounted when the test ends, whether it passed or not.
//
// Linux only, and needs the right to mount (root, or CAP_SYS_ADMIN); when mounting is refused
// the reason is in error() and the test skips. One owner thread.
#pragma once

#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace dollhouse::testing {

class TmpfsMount {
 public:
  // Mounts a tmpfs of `bytes` at `dir` (created when missing), its root mode 0700.
  TmpfsMount(const std::string& dir, std::size_t bytes) : dir_(dir) {
    ::mkdir(dir.c_str(), 0700);
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      error_ = std::string("mount -t tmpfs -o ") + options + " " + dir +
               " is not permitted here: " + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  // Lazily unmounted (MNT_DETACH): a daemon that was killed may still hold files open there.
  ~TmpfsMount() { unmount(); }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  void unmount() {
    if (mounted_ && ::umount2(dir_.c_str(), MNT_DETACH) == 0) mounted_ = false;
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

  // Bytes an unprivileged writer could still put on the file system.
  std::uint64_t free_bytes() const {
    struct statvfs vfs {};
    if (::statvfs(dir_.c_str(), &vfs) != 0) return 0;
    return static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }

  // Writes `path` until the file system refuses (ENOSPC); the bytes it holds then.
  std::uint64_t fill(const std::string& path) const {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return 0;
    std::setvbuf(f, nullptr, _IONBF, 0);
    const std::vector<char> block(kFillBlockBytes, 'x');
    std::uint64_t written = 0;
    while (true) {
      std::size_t n = std::fwrite(block.data(), 1, block.size(), f);
      written += n;
      if (n < block.size()) break;
    }
    // The last partial page may still have room for a few bytes: take them too.
    for (std::size_t n = 1; n == 1;) {
      n = std::fwrite(block.data(), 1, 1, f);
      written += n;
    }
    std::fclose(f);
    return written;
  }

 private:
  // Large enough to fill a few MiB quickly, small enough that the tail is found byte by byte.
  static constexpr std::size_t kFillBlockBytes = 4096;

  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// The one integer that `sql` (a fixed query of the test's, such as "SELECT count(*) FROM
// events") yields from the SQLite database at `path`, read as any other reader would (read-only,
// through the WAL); nullopt with `error` set when it cannot be read.
inline std::optional<std::int64_t> query_int(const std::string& path, const std::string& sql,
                                             std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = db ? sqlite3_errmsg(db) : "cannot open " + path;
    sqlite3_close(db);
    return std::nullopt;
  }
  sqlite3_busy_timeout(db, 10'000);
  sqlite3_stmt* stmt = nullptr;
  std::optional<std::int64_t> value;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  } else {
    error = sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

}  // namespace dollhouse::testing
