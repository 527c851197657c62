#include "common/win32.hpp"

#include <sddl.h>
#include <shellapi.h>

#include <memory>
#include <vector>

namespace dollhouse::win32 {

namespace {

struct HandleCloser {
  void operator()(HANDLE h) const {
    if (h != nullptr && h != INVALID_HANDLE_VALUE) ::CloseHandle(h);
  }
};
using UniqueHandle = std::unique_ptr<void, HandleCloser>;

// The TOKEN_USER of `process`, in a buffer that owns the SID it points into.
std::optional<std::vector<unsigned char>> token_user(HANDLE process) {
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(process, TOKEN_QUERY, &raw)) return std::nullopt;
  UniqueHandle token(raw);
  DWORD size = 0;
  ::GetTokenInformation(raw, TokenUser, nullptr, 0, &size);
  if (size == 0) return std::nullopt;
  std::vector<unsigned char> buffer(size);
  if (!::GetTokenInformation(raw, TokenUser, buffer.data(), size, &size)) return std::nullopt;
  return buffer;
}

PSID sid_of(std::vector<unsigned char>& token_user_buffer) {
  return reinterpret_cast<TOKEN_USER*>(token_user_buffer.data())->User.Sid;
}

}  // namespace

std::wstring widen(std::string_view utf8) {
  if (utf8.empty()) return {};
  int n = ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string narrow(std::wstring_view utf16) {
  if (utf16.empty()) return {};
  int n = ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), nullptr,
                                0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), out.data(), n,
                        nullptr, nullptr);
  return out;
}

std::string error_text(unsigned long code) {
  wchar_t* text = nullptr;
  DWORD n = ::FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  std::string message;
  if (n > 0 && text != nullptr) {
    message = narrow(std::wstring_view(text, n));
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                                message.back() == ' ' || message.back() == '.')) {
      message.pop_back();
    }
  }
  if (text != nullptr) ::LocalFree(text);
  if (message.empty()) message = "system error";
  return message + " (error " + std::to_string(code) + ")";
}

Result<std::string> current_user_sid() {
  auto user = token_user(::GetCurrentProcess());
  if (!user) {
    return Status::error("io_error",
                         "cannot read this process's user: " + error_text(::GetLastError()));
  }
  wchar_t* text = nullptr;
  if (!::ConvertSidToStringSidW(sid_of(*user), &text)) {
    return Status::error("io_error", "cannot format the user SID: " + error_text(::GetLastError()));
  }
  std::string sid = narrow(text);
  ::LocalFree(text);
  return sid;
}

std::optional<bool> process_runs_as_current_user(unsigned long pid) {
  UniqueHandle process(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!process) return std::nullopt;
  auto theirs = token_user(process.get());
  auto ours = token_user(::GetCurrentProcess());
  if (!theirs || !ours) return std::nullopt;
  return ::EqualSid(sid_of(*theirs), sid_of(*ours)) != FALSE;
}

std::vector<std::string> utf8_arguments() {
  std::vector<std::string> args;
  int count = 0;
  wchar_t** wide = ::CommandLineToArgvW(::GetCommandLineW(), &count);
  if (wide == nullptr) return args;
  for (int i = 0; i < count; ++i) args.push_back(narrow(wide[i]));
  ::LocalFree(wide);
  return args;
}

Utf8Argv::Utf8Argv(const char* program) : args_(utf8_arguments()) {
  if (args_.empty()) args_.emplace_back(program);
  for (auto& a : args_) pointers_.push_back(a.data());
  pointers_.push_back(nullptr);
}

void Utf8Argv::erase(int index) {
  if (index <= 0 || index >= argc()) return;
  pointers_.erase(pointers_.begin() + index);  // args_ keeps the text the others point into
}

Result<UserOnlySecurity> UserOnlySecurity::create(Inherit inherit) {
  auto sid = current_user_sid();
  if (!sid) return sid.status();
  // O: owner; D:P protected DACL; A;OICI;FA (inherited by files and folders, all file rights)
  // or A;;GA (all rights) for the user alone.
  const std::string entry = inherit == Inherit::kToChildren ? "(A;OICI;FA;;;" : "(A;;GA;;;";
  const std::string sddl = "O:" + *sid + "D:P" + entry + *sid + ")";
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(widen(sddl).c_str(), SDDL_REVISION_1,
                                                              &descriptor, nullptr)) {
    return Status::error("io_error", "cannot build an access list for this user only: " +
                                         error_text(::GetLastError()));
  }
  return UserOnlySecurity(std::move(*sid), descriptor);
}

UserOnlySecurity::UserOnlySecurity(std::string sid, PSECURITY_DESCRIPTOR descriptor)
    : sid_(std::move(sid)) {
  attributes_.nLength = sizeof attributes_;
  attributes_.lpSecurityDescriptor = descriptor;
  attributes_.bInheritHandle = FALSE;
}

UserOnlySecurity::UserOnlySecurity(UserOnlySecurity&& other) noexcept
    : sid_(std::move(other.sid_)), attributes_(other.attributes_) {
  other.attributes_.lpSecurityDescriptor = nullptr;
}

UserOnlySecurity::~UserOnlySecurity() {
  if (attributes_.lpSecurityDescriptor != nullptr) ::LocalFree(attributes_.lpSecurityDescriptor);
}

std::optional<std::string> environment_variable(const std::string& name) {
  const std::wstring wide_name = widen(name);
  std::wstring value(256, L'\0');
  while (true) {
    ::SetLastError(ERROR_SUCCESS);
    DWORD n = ::GetEnvironmentVariableW(wide_name.c_str(), value.data(),
                                        static_cast<DWORD>(value.size()));
    if (n == 0) {
      if (::GetLastError() == ERROR_ENVVAR_NOT_FOUND) return std::nullopt;
      return std::string();  // set, but empty
    }
    if (n < value.size()) {
      value.resize(n);
      return narrow(value);
    }
    value.resize(n);  // n is the size needed, terminator included
  }
}

}  // namespace dollhouse::win32
