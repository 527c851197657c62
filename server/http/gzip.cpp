#include "server/http/gzip.hpp"

#include <zlib.h>

#include <array>

namespace dollhouse::server {

namespace {
constexpr int kGzipWindowBits = 15 + 16;  // zlib: 15-bit window, gzip wrapper
}

Result<std::string> inflate_gzip(std::string_view compressed, std::size_t max_output) {
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) {
    return Status::error(kInflateBadEncoding, "cannot start the gzip decoder");
  }
  std::string out;
  std::array<char, 16384> chunk{};
  // zlib's API takes a non-const pointer but does not write through next_in.
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status::error(kInflateBadEncoding, "the body is not valid gzip");
    }
    std::size_t produced = chunk.size() - zs.avail_out;
    if (out.size() + produced > max_output) {
      inflateEnd(&zs);
      return Status::error(kInflateTooLarge,
                           "the inflated body exceeds " + std::to_string(max_output) + " bytes");
    }
    out.append(chunk.data(), produced);
    if (rc == Z_OK && zs.avail_in == 0 && produced == 0) {
      inflateEnd(&zs);
      return Status::error(kInflateBadEncoding, "the gzip body is truncated");
    }
  }
  inflateEnd(&zs);
  return out;
}

std::string deflate_gzip(std::string_view plain) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, static_cast<uLong>(plain.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace dollhouse::server
