// Private directories on Windows: created with an access list for this user only.
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <filesystem>

#include "common/win32.hpp"
#include "ipc/private_directory.hpp"

namespace dollhouse::ipc {

using win32::error_text;
using win32::widen;

Status prepare_private_directory(const std::string& dir) {
  if (dir.empty()) return Status::error("invalid_path", "empty directory path");
  const std::filesystem::path path(widen(dir));
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Status::error("io_error", "cannot create " + dir + ": " + ec.message());
  // A new directory is created owned by this user, with its access list: this user only,
  // inherited by what is created inside, nothing inherited from above. An existing directory is
  // left as it is (rewriting it would rewrite the inherited entries of everything below it),
  // but it must belong to this user.
  auto security = win32::UserOnlySecurity::create(win32::UserOnlySecurity::Inherit::kToChildren);
  if (!security) return security.status();
  if (::CreateDirectoryW(path.c_str(), security->attributes())) return Status::ok();
  DWORD err = ::GetLastError();
  if (err != ERROR_ALREADY_EXISTS) {
    return Status::error("io_error", "cannot create " + dir + ": " + error_text(err));
  }
  DWORD attributes_now = ::GetFileAttributesW(path.c_str());
  if (attributes_now == INVALID_FILE_ATTRIBUTES || !(attributes_now & FILE_ATTRIBUTE_DIRECTORY) ||
      (attributes_now & FILE_ATTRIBUTE_REPARSE_POINT)) {
    return Status::error("insecure_path", dir +
                                              " is not a directory (a link or a file); remove "
                                              "it or choose another path");
  }
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR existing = nullptr;
  std::wstring wide = path.wstring();
  err = ::GetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                                nullptr, nullptr, nullptr, &existing);
  if (err != ERROR_SUCCESS) {
    return Status::error("io_error", "cannot inspect " + dir + ": " + error_text(err));
  }
  wchar_t* owner_text = nullptr;
  std::string owner_sid;
  if (owner != nullptr && ::ConvertSidToStringSidW(owner, &owner_text)) {
    owner_sid = win32::narrow(owner_text);
    ::LocalFree(owner_text);
  }
  ::LocalFree(existing);
  if (owner_sid != security->sid()) {
    return Status::error("insecure_path",
                         dir + " belongs to another user; choose a directory of your own");
  }
  return Status::ok();
}

}  // namespace dollhouse::ipc
