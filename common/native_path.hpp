// A path held as UTF-8 text (as every path is in this project), as the platform's file APIs want
// it: the same bytes on POSIX, UTF-16 on Windows (where a narrow std::string path would be read
// in the ANSI code page and could not name every file).
#pragma once

#include <filesystem>
#include <string>

#ifdef _WIN32
#include "common/win32.hpp"
#endif

namespace dollhouse {

inline std::filesystem::path native_path(const std::string& utf8) {
#ifdef _WIN32
  return std::filesystem::path(win32::widen(utf8));
#else
  return std::filesystem::path(utf8);
#endif
}

}  // namespace dollhouse
