// gzip (RFC 1952) compression of upload bodies with zlib. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dollhouse::daemon {

// nullopt only if zlib fails (out of memory).
std::optional<std::string> gzip_compress(std::string_view data);
// For tests and the server side: nullopt on corrupt input or when the output would exceed
// max_output bytes.
std::optional<std::string> gzip_decompress(std::string_view data, std::size_t max_output);

}  // namespace dollhouse::daemon
