#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "common/private_file.hpp"

namespace dollhouse {

namespace {

// Writes all of `n` bytes at `offset`; false with errno set when the system refused.
bool write_all_at(int fd, const char* data, std::size_t n, off_t offset) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t w = ::pwrite(fd, data + done, n - done, offset + static_cast<off_t>(done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      return false;
    }
    done += static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

Status write_private_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& what, int e) {
    ::unlink(tmp.c_str());
    return Status::error("io_error", "cannot " + what + " " + path + ": " + std::strerror(e));
  };
  // O_EXCL after unlink: never write into a temporary file someone else left, whose mode or
  // owner could expose the contents.
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return Status::error("io_error", "cannot write " + path + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      return fail("write", e);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return fail("flush", e);
  }
  if (::close(fd) != 0) return fail("flush", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("replace", errno);
  return Status::ok();
}

Status overwrite_private_file_in_place(const std::string& path, const std::string& text) {
  if (text.empty() || text.front() == kTornFileMarker) {
    return Status::error("io_error", "cannot rewrite " + path + " in place: unsuitable content");
  }
  // No O_CREAT, no O_TRUNC: the file's own blocks are reused.
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return Status::error("io_error",
                         "cannot rewrite " + path + " in place: " + std::strerror(errno));
  }
  auto fail = [&](const char* what) {
    int e = errno;
    ::close(fd);
    return Status::error(
        "io_error", std::string("cannot ") + what + " " + path + " in place: " + std::strerror(e));
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail("inspect");
  // Only the user's own private regular file: never one that others could read.
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    ::close(fd);
    return Status::error("io_error", "cannot rewrite " + path +
                                         " in place: not a private regular file of this user");
  }
  const auto allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
  if (text.size() > allocated) {
    ::close(fd);
    return Status::error("no_space", "cannot rewrite " + path + " in place: the new content (" +
                                         std::to_string(text.size()) +
                                         " bytes) needs more than the file's " +
                                         std::to_string(allocated) + " allocated bytes");
  }
  const char marker = kTornFileMarker;
  if (!write_all_at(fd, &marker, 1, 0) || ::fsync(fd) != 0) return fail("mark");
  if (!write_all_at(fd, text.data() + 1, text.size() - 1, 1)) return fail("write");
  if (::ftruncate(fd, static_cast<off_t>(text.size())) != 0) return fail("cut");
  if (::fsync(fd) != 0) return fail("flush");
  if (!write_all_at(fd, text.data(), 1, 0) || ::fsync(fd) != 0) return fail("finish");
  if (::close(fd) != 0) {
    return Status::error("io_error", "cannot flush " + path + " in place: " + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace dollhouse
