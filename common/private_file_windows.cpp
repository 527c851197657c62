#include <algorithm>
#include <cstdint>

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

namespace dollhouse {

namespace {

// Writes all of `n` bytes at `offset`; false when the system refused (GetLastError says why).
bool write_all_at(HANDLE file, const char* data, std::size_t n, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < n) {
    OVERLAPPED at{};
    const std::uint64_t pos = offset + done;
    at.Offset = static_cast<DWORD>(pos & 0xffffffffu);
    at.OffsetHigh = static_cast<DWORD>(pos >> 32);
    DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(n - done, 1 << 20));
    DWORD written = 0;
    if (!::WriteFile(file, data + done, chunk, &written, &at) || written == 0) return false;
    done += written;
  }
  return true;
}

}  // namespace

Status overwrite_private_file_in_place(const std::string& path, const std::string& text) {
  if (text.empty() || text.front() == kTornFileMarker) {
    return Status::error("io_error", "cannot rewrite " + path + " in place: unsuitable content");
  }
  // OPEN_EXISTING keeps the file, its access list and its clusters.
  HANDLE file = ::CreateFileW(widen(path).c_str(), GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    return Status::error("io_error",
                         "cannot rewrite " + path + " in place: " + error_text(::GetLastError()));
  }
  auto fail = [&](const char* what) {
    DWORD err = ::GetLastError();
    ::CloseHandle(file);
    return Status::error(
        "io_error", std::string("cannot ") + what + " " + path + " in place: " + error_text(err));
  };
  FILE_STANDARD_INFO info{};
  if (!::GetFileInformationByHandleEx(file, FileStandardInfo, &info, sizeof info)) {
    return fail("inspect");
  }
  const auto allocated = static_cast<std::uint64_t>(info.AllocationSize.QuadPart);
  if (info.Directory || text.size() > allocated) {
    ::CloseHandle(file);
    return Status::error("no_space", "cannot rewrite " + path + " in place: the new content (" +
                                         std::to_string(text.size()) +
                                         " bytes) needs more than the file's " +
                                         std::to_string(allocated) + " allocated bytes");
  }
  const char marker = kTornFileMarker;
  if (!write_all_at(file, &marker, 1, 0) || !::FlushFileBuffers(file)) return fail("mark");
  if (!write_all_at(file, text.data() + 1, text.size() - 1, 1)) return fail("write");
  LARGE_INTEGER end{};
  end.QuadPart = static_cast<LONGLONG>(text.size());
  if (!::SetFilePointerEx(file, end, nullptr, FILE_BEGIN) || !::SetEndOfFile(file)) {
    return fail("cut");
  }
  if (!::FlushFileBuffers(file)) return fail("flush");
  if (!write_all_at(file, text.data(), 1, 0) || !::FlushFileBuffers(file)) return fail("finish");
  ::CloseHandle(file);
  return Status::ok();
}

}  // namespace dollhouse
