// NDJSON framing: splits a byte stream into lines of at most a fixed size.
//
// Pure: no I/O. The caller feeds whatever the socket delivered and then takes complete frames.
// A line longer than the limit is not buffered: its first `limit` bytes are kept (so the
// request id can still be recovered from them), the rest is skipped up to the next newline, and
// the frame is reported as oversize. Memory use is therefore bounded by the limit, whatever the
// peer sends. Not thread-safe; one framer per connection.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dollhouse::ipc {

struct Frame {
  std::string line;       // without the newline; for oversize frames, the first `limit` bytes
  bool oversize = false;  // the line exceeded the limit
};

class LineFramer {
 public:
  explicit LineFramer(std::size_t max_line_bytes) : limit_(max_line_bytes) {}
  // Once every byte fed has been framed, a buffer larger than this is given back.
  static constexpr std::size_t kKeptBytes = 4 * 1024;

  // Appends received bytes. Call next() until it returns nullopt before feeding more, so the
  // internal buffer never holds more than one partial line.
  void feed(std::string_view bytes);
  std::optional<Frame> next();

  // Bytes held for a line not yet complete.
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::size_t limit_;
  std::string buffer_;
  std::size_t start_ = 0;
  bool skipping_ = false;  // inside an oversize line, waiting for its newline
  std::string oversize_prefix_;
};

}  // namespace dollhouse::ipc
