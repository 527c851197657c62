#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
// clang-format off
#include <sddl.h>
// clang-format on

#include <algorithm>

#include "common/private_file.hpp"
#include "common/win32.hpp"

namespace dollhouse {

using win32::error_text;
using win32::widen;

Status write_private_file(const std::string& path, const std::string& text) {
  auto sid = win32::current_user_sid();
  if (!sid) return sid.status();
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(
          widen(win32::owner_only_sddl(*sid)).c_str(), SDDL_REVISION_1, &descriptor, nullptr)) {
    return Status::error("io_error",
                         "cannot build an access list: " + error_text(::GetLastError()));
  }
  SECURITY_ATTRIBUTES attributes{};
  attributes.nLength = sizeof attributes;
  attributes.lpSecurityDescriptor = descriptor;
  const std::wstring tmp = widen(path + ".tmp");
  ::DeleteFileW(tmp.c_str());
  // CREATE_NEW: never write into a temporary file someone else left.
  HANDLE file = ::CreateFileW(tmp.c_str(), GENERIC_WRITE, 0, &attributes, CREATE_NEW,
                              FILE_ATTRIBUTE_NORMAL, nullptr);
  DWORD err = ::GetLastError();
  ::LocalFree(descriptor);
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
