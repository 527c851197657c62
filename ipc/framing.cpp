#include "ipc/framing.hpp"

#include <algorithm>

namespace dollhouse::ipc {

void LineFramer::feed(std::string_view bytes) {
  if (start_ > 0) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<Frame> LineFramer::next() {
  while (true) {
    std::string_view pending(buffer_.data() + start_, buffer_.size() - start_);
    std::size_t nl = pending.find('\n');
    if (skipping_) {
      if (nl == std::string_view::npos) {
        // Still inside the oversize line: discard everything received so far.
        buffer_.clear();
        start_ = 0;
        return std::nullopt;
      }
      start_ += nl + 1;
      skipping_ = false;
      Frame f{std::move(oversize_prefix_), true};
      oversize_prefix_.clear();
      return f;
    }
    if (nl == std::string_view::npos) {
      // One byte past the limit may be the CR of a CRLF whose LF has not arrived yet.
      bool maybe_crlf = pending.size() == limit_ + 1 && pending.back() == '\r';
      if (pending.size() > limit_ && !maybe_crlf) {
        oversize_prefix_.assign(pending.substr(0, limit_));
        skipping_ = true;
        continue;
      }
      return std::nullopt;
    }
    std::string_view line = pending.substr(0, nl);
    start_ += nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Frame frame{std::string(line.substr(0, std::min(line.size(), limit_))), line.size() > limit_};
    if (start_ == buffer_.size()) {
      // Everything fed is framed: an idle connection keeps no buffer beyond kKeptBytes.
      start_ = 0;
      if (buffer_.capacity() > kKeptBytes) {
        std::string().swap(buffer_);
      } else {
        buffer_.clear();
      }
    }
    return frame;
  }
}

}  // namespace dollhouse::ipc
