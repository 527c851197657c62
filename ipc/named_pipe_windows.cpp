// Named pipe instances: the name check and the secured, overlapped server instance.
#include <windows.h>

#include "common/win32.hpp"
#include "ipc/named_pipe.hpp"

namespace dollhouse::ipc {

using win32::error_text;
using win32::widen;

bool is_pipe_name(const std::string& name) {
  return name.rfind("\\\\.\\pipe\\", 0) == 0 && name.size() > 9;
}

Result<void*> create_pipe_instance(const std::string& name, bool first) {
  if (!is_pipe_name(name)) {
    return Status::error("invalid_path", "not a local pipe name (\\\\.\\pipe\\...): " + name);
  }
  auto security = win32::UserOnlySecurity::create();
  if (!security) return security.status();
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  HANDLE pipe = ::CreateNamedPipeW(
      widen(name).c_str(), open_mode,
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
      PIPE_UNLIMITED_INSTANCES, kPipeBufferBytes, kPipeBufferBytes, 0, security->attributes());
  if (pipe == INVALID_HANDLE_VALUE) {
    DWORD err = ::GetLastError();
    if (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY) {
      return Status::error("in_use", name +
                                         " is already held by another process (another "
                                         "daemon, or someone else's pipe); refusing to listen");
    }
    return Status::error("io_error", "cannot create " + name + ": " + error_text(err));
  }
  return static_cast<void*>(pipe);
}

}  // namespace dollhouse::ipc
