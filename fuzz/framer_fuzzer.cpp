// The NDJSON framer (ipc/framing.hpp) over arbitrary bytes, cut into arbitrary reads.
//
// The input's first bytes choose the line limit and how the rest is split into the chunks a
// socket might deliver; the rest is the stream. Checked, for every input:
// - the frames do not depend on how the stream was split into reads;
// - they are the stream's complete lines, without "\n" and one trailing "\r", and a line longer
//   than the limit is reported as oversize with exactly its first `limit` bytes;
// - after the frames are taken, the framer holds at most limit + 1 bytes (a full line and the
//   CR of a CRLF whose LF has not arrived), whatever the peer sends.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_checks.hpp"
#include "ipc/framing.hpp"

namespace {

using dollhouse::fuzz::check;
using dollhouse::ipc::Frame;
using dollhouse::ipc::LineFramer;

// Largest line limit tried. Small limits let short inputs reach the oversize paths; the
// daemon's own limit (ipc::kMaxLineBytes) behaves the same, only the numbers are larger.
constexpr std::size_t kMaxFuzzLineLimit = 64;
// Largest read the input may ask for; a read of the whole rest is always possible too.
constexpr std::size_t kMaxChunkBytes = 256;

bool same(const Frame& a, const Frame& b) {
  return a.line == b.line && a.oversize == b.oversize;
}

// Takes every frame out; checks the bound on what the framer keeps.
void drain(LineFramer& framer, std::size_t limit, std::vector<Frame>& out) {
  while (auto frame = framer.next()) out.push_back(std::move(*frame));
  check(framer.buffered() <= limit + 1, "the framer holds more than one line after draining");
}

// The framer's contract, written without its buffering: complete lines only.
std::vector<Frame> expected_frames(std::string_view stream, std::size_t limit) {
  std::vector<Frame> frames;
  std::size_t start = 0;
  for (std::size_t nl = stream.find('\n'); nl != std::string_view::npos;
       nl = stream.find('\n', start)) {
    std::string_view line = stream.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limit) {
      frames.push_back(Frame{std::string(line.substr(0, limit)), true});
    } else {
      frames.push_back(Frame{std::string(line), false});
    }
    start = nl + 1;
  }
  return frames;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::size_t limit = input.ConsumeIntegralInRange<std::size_t>(1, kMaxFuzzLineLimit);
  // The chunk sizes come from the end of the input, the stream from the front.
  std::vector<std::size_t> chunks;
  const std::size_t chunk_count = input.ConsumeIntegralInRange<std::size_t>(0, 16);
  for (std::size_t i = 0; i < chunk_count; ++i) {
    chunks.push_back(input.ConsumeIntegralInRange<std::size_t>(1, kMaxChunkBytes));
  }
  const std::string stream = input.ConsumeRemainingBytesAsString();

  std::vector<Frame> whole;
  LineFramer at_once(limit);
  at_once.feed(stream);
  drain(at_once, limit, whole);

  std::vector<Frame> pieces;
  LineFramer in_reads(limit);
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < stream.size(); ++i) {
    const std::size_t n = i < chunks.size() ? chunks[i] : stream.size() - pos;
    in_reads.feed(std::string_view(stream).substr(pos, n));
    pos += std::string_view(stream).substr(pos, n).size();
    drain(in_reads, limit, pieces);
  }

  const std::vector<Frame> expected = expected_frames(stream, limit);
  check(whole.size() == expected.size(), "a different number of frames than complete lines");
  check(pieces.size() == whole.size(), "the frames depend on how the stream was read");
  for (std::size_t i = 0; i < whole.size(); ++i) {
    check(same(whole[i], expected[i]), "a frame is not its line (or its oversize prefix)");
    check(same(pieces[i], whole[i]), "the frames depend on how the stream was read");
    check(whole[i].line.find('\n') == std::string::npos, "a frame holds a newline");
    check(whole[i].line.size() <= limit, "a frame is longer than the limit");
  }
  return 0;
}
