#include <windows.h>

#include "daemon/platform_info.hpp"

namespace dollhouse::daemon {

PlatformInfo detect_platform() {
  PlatformInfo p{"windows", "Windows", "unknown"};
  SYSTEM_INFO info{};
  ::GetNativeSystemInfo(&info);
  switch (info.wProcessorArchitecture) {
    case PROCESSOR_ARCHITECTURE_AMD64:
      p.arch = "x64";
      break;
    case PROCESSOR_ARCHITECTURE_ARM64:
      p.arch = "arm64";
      break;
    case PROCESSOR_ARCHITECTURE_INTEL:
      p.arch = "x86";
      break;
    default:
      break;
  }
  // RtlGetVersion tells the truth where GetVersionEx is shimmed; only the major version is kept
  // ("Windows 10" also covers 11, whose kernel reports 10: the build number is not sent).
  using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOW*);
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  auto rtl_get_version =
      ntdll == nullptr ? nullptr
                       : reinterpret_cast<RtlGetVersionFn>(
                             reinterpret_cast<void*>(::GetProcAddress(ntdll, "RtlGetVersion")));
  OSVERSIONINFOW version{};
  version.dwOSVersionInfoSize = sizeof version;
  if (rtl_get_version != nullptr && rtl_get_version(&version) == 0) {
    p.os_version = "Windows " + std::to_string(version.dwMajorVersion);
  }
  return p;
}

}  // namespace dollhouse::daemon
