#include <algorithm>

#include "common/private_file.hpp"
#include "common/win32.hpp"

namespace dollhouse {

using win32::error_text;
using win32::widen;

Status write_private_file(const std::string& path, const std::string& text) {
  auto security = win32::UserOnlySecurity::create();
  if (!security) return security.status();
  const std::wstring tmp = widen(path + ".tmp");
  ::DeleteFileW(tmp.c_str());
  // CREATE_NEW: never write into a temporary file someone else left.
  HANDLE file = ::CreateFileW(tmp.c_str(), GENERIC_WRITE, 0, security->attributes(), CREATE_NEW,
                              FILE_ATTRIBUTE_NORMAL, nullptr);
  DWORD err = ::GetLastError();
  if (file == INVALID_HANDLE_VALUE) {
    return Status::error("io_error", "cannot write " + path + ": " + error_text(err));
  }
  std::size_t done = 0;
  bool ok = true;
  while (ok && done < text.size()) {
    DWORD n = 0;
    DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(text.size() - done, 1 << 20));
    ok = ::WriteFile(file, text.data() + done, chunk, &n, nullptr) && n > 0;
    done += n;
  }
  ok = ok && ::FlushFileBuffers(file);
  err = ::GetLastError();
  ::CloseHandle(file);
  if (!ok || !::MoveFileExW(tmp.c_str(), widen(path).c_str(),
                            MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    if (ok) err = ::GetLastError();
    ::DeleteFileW(tmp.c_str());
    return Status::error("io_error", "cannot write " + path + ": " + error_text(err));
  }
  return Status::ok();
}

}  // namespace dollhouse
