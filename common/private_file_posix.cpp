#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/private_file.hpp"

namespace dollhouse {

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

}  // namespace dollhouse
