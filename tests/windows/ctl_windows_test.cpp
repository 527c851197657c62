// dollhousectl's Windows paths, run as a real program: the daemon-absent message, the service
// registration with the service control manager (Wine's in CI), argument quoting for the
// programs it starts, and the user-only export file. With "--print-args", this program prints
// its arguments one per line (the child for the quoting test).
#include <windows.h>
// clang-format off
#include <knownfolders.h>
#include <shlobj.h>
// clang-format on

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/private_file.hpp"
#include "common/win32.hpp"
#include "ctl/platform.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/windows/wine.hpp"
#include "windows-service/service_host.hpp"

namespace dollhouse::testing {
namespace {

namespace fs = std::filesystem;
namespace platform = ctl::platform;

std::string bin_dir() {
  return platform::own_directory();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string self_path() {
  return platform::join_path(bin_dir(), "windows_ctl_tests.exe");
}

// Sets a variable for this process and the programs it starts, for one test.
class ScopedVariable {
 public:
  ScopedVariable(const char* name, const std::string& value) : name_(name) {
    ::_putenv_s(name, value.c_str());
  }
  ~ScopedVariable() { ::_putenv_s(name_, ""); }
  ScopedVariable(const ScopedVariable&) = delete;
  ScopedVariable& operator=(const ScopedVariable&) = delete;

 private:
  const char* name_;
};

bool service_exists(const char* name) {
  SC_HANDLE scm = ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
  if (scm == nullptr) return false;
  SC_HANDLE service = ::OpenServiceW(scm, win32::widen(name).c_str(), SERVICE_QUERY_STATUS);
  bool exists = service != nullptr;
  if (service != nullptr) ::CloseServiceHandle(service);
  ::CloseServiceHandle(scm);
  return exists;
}

std::string program_files() {
  wchar_t* folder = nullptr;
  if (FAILED(::SHGetKnownFolderPath(FOLDERID_ProgramFiles, 0, nullptr, &folder))) return "";
  std::string path = win32::narrow(folder);
  ::CoTaskMemFree(folder);
  return path;
}

// dollhousectl.exe with a stand-in dollhouse-telemetryd.exe next to it, in a directory of its
// own under Program Files (where `service install` wants the daemon) or, when asked, in a temp
// directory.
class InstalledCtl {
 public:
  explicit InstalledCtl(bool in_program_files = true) {
    dir_ = in_program_files
               ? platform::join_path(program_files(), "DollhouseTelemetryTest-" +
                                                          std::to_string(::GetCurrentProcessId()))
               : temp_.path();
    std::error_code ec;
    fs::create_directories(win32::widen(dir_), ec);
    fs::copy_file(win32::widen(platform::join_path(bin_dir(), "dollhousectl.exe")),
                  win32::widen(file("dollhousectl.exe")), ec);
    if (!ec) {
      fs::copy_file(win32::widen(self_path()), win32::widen(daemon()), ec);
    }
    ready_ = !ec;
  }
  ~InstalledCtl() {
    std::error_code ignored;
    if (dir_ != temp_.path()) fs::remove_all(win32::widen(dir_), ignored);
  }
  InstalledCtl(const InstalledCtl&) = delete;
  InstalledCtl& operator=(const InstalledCtl&) = delete;

  // False when the directory could not be filled (no write access to Program Files).
  bool ready() const { return ready_; }
  platform::CommandOutput run(std::vector<std::string> args) const {
    args.insert(args.begin(), file("dollhousectl.exe"));
    return platform::run_command(args);
  }
  std::string daemon() const { return file("dollhouse-telemetryd.exe"); }

 private:
  std::string file(const std::string& name) const { return platform::join_path(dir_, name); }

  TempDir temp_;
  std::string dir_;
  bool ready_ = false;
};

#define REQUIRE_READY(ctl)                                         \
  if (!(ctl).ready())                                              \
  GTEST_SKIP() << "cannot write under Program Files here (not an " \
                  "administrator)"

TEST(CtlWindows, WithoutADaemonItSaysHowToStartOneAndExitsThree) {
  TempDir dir;
  ScopedVariable home("DOLLHOUSE_HOME", dir.file("root"));
  ScopedVariable pipe("DOLLHOUSE_TELEMETRY_SOCKET", dir.endpoint("nobody"));
  auto out = platform::run_command(
      {platform::join_path(bin_dir(), "dollhousectl.exe"), "--no-start", "telemetry", "status"});
  EXPECT_EQ(out.exit_code, 3) << out.text;
  EXPECT_NE(out.text.find("daemon not running"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find(dir.endpoint("nobody")), std::string::npos) << out.text;
}

TEST(CtlWindows, ServiceInstallRefusesWithoutTheDaemonNextToIt) {
  // A copy of dollhousectl.exe alone (the build directory has the daemon beside it).
  TempDir dir;
  const std::string ctl = dir.file("dollhousectl.exe");
  std::error_code ec;
  fs::copy_file(win32::widen(platform::join_path(bin_dir(), "dollhousectl.exe")), win32::widen(ctl),
                ec);
  ASSERT_FALSE(ec) << ec.message();
  auto out = platform::run_command({ctl, "service", "install", "--dry-run"});
  EXPECT_EQ(out.exit_code, 1) << out.text;
  EXPECT_NE(out.text.find("is not next to dollhousectl"), std::string::npos) << out.text;
}

TEST(CtlWindows, ServiceInstallDryRunPrintsTheRegistrationAndChangesNothing) {
  InstalledCtl ctl;
  REQUIRE_READY(ctl);
  auto out = ctl.run({"service", "install", "--dry-run"});
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_NE(out.text.find("register: Windows service DollhouseTelemetry (per-user, automatic "
                          "start): \"" +
                          ctl.daemon() + "\" --service"),
            std::string::npos)
      << out.text;
  EXPECT_NE(out.text.find("dry run: nothing was changed"), std::string::npos) << out.text;
  EXPECT_FALSE(service_exists(winsvc::kServiceName));
}

TEST(CtlWindows, ServiceInstallRefusesADaemonOutsideProgramFiles) {
  InstalledCtl ctl(/*in_program_files=*/false);
  ASSERT_TRUE(ctl.ready());
  auto out = ctl.run({"service", "install", "--dry-run"});
  EXPECT_EQ(out.exit_code, 1) << out.text;
  EXPECT_NE(out.text.find("is not under Program Files"), std::string::npos) << out.text;
  EXPECT_EQ(out.text.find("register:"), std::string::npos) << out.text;
  EXPECT_FALSE(service_exists(winsvc::kServiceName));
}

TEST(CtlWindows, ServiceInstallRegistersAPerUserServiceAndUninstallRemovesIt) {
  InstalledCtl ctl;
  REQUIRE_READY(ctl);
  ASSERT_FALSE(service_exists(winsvc::kServiceName)) << "left over from another run";
  auto installed = ctl.run({"service", "install"});
  if (running_under_wine()) {
    // Wine's service manager has no per-user services (type 0x50) and refuses the call: the
    // user is told so and nothing is left registered.
    EXPECT_EQ(installed.exit_code, 1) << installed.text;
    EXPECT_NE(installed.text.find("does not support per-user services"), std::string::npos)
        << installed.text;
    EXPECT_FALSE(service_exists(winsvc::kServiceName));
    return;
  }
  ASSERT_EQ(installed.exit_code, 0) << installed.text;
  EXPECT_TRUE(service_exists(winsvc::kServiceName));
  auto again = ctl.run({"service", "install"});
  EXPECT_EQ(again.exit_code, 0) << again.text;
  EXPECT_NE(again.text.find("updated:"), std::string::npos) << again.text;
  auto removed = ctl.run({"service", "uninstall"});
  EXPECT_EQ(removed.exit_code, 0) << removed.text;
  EXPECT_FALSE(service_exists(winsvc::kServiceName));
}

TEST(CtlWindows, StatusAndUninstallWorkOnARegisteredService) {
  InstalledCtl ctl(/*in_program_files=*/false);
  ASSERT_TRUE(ctl.ready());
  ASSERT_FALSE(service_exists(winsvc::kServiceName)) << "left over from another run";
  // The registration install makes, as far as every service manager supports it.
  const std::string command = "\"" + ctl.daemon() + "\" --service";
  SC_HANDLE scm = ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ALL_ACCESS);
  ASSERT_NE(scm, nullptr);
  SC_HANDLE service = register_own_process_service(scm, command);
  ASSERT_NE(service, nullptr) << win32::error_text(::GetLastError());
  ::CloseServiceHandle(service);
  ::CloseServiceHandle(scm);

  auto status = ctl.run({"service", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.text;
  EXPECT_NE(status.text.find("DollhouseTelemetry: installed (" + command + ")"), std::string::npos)
      << status.text;
  EXPECT_NE(status.text.find("instances: 0"), std::string::npos) << status.text;

  auto dry = ctl.run({"service", "uninstall", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.text;
  EXPECT_TRUE(service_exists(winsvc::kServiceName)) << "a dry run removed the service";

  auto removed = ctl.run({"service", "uninstall"});
  EXPECT_EQ(removed.exit_code, 0) << removed.text;
  EXPECT_NE(removed.text.find("remove: Windows service DollhouseTelemetry"), std::string::npos)
      << removed.text;
  EXPECT_FALSE(service_exists(winsvc::kServiceName));
  auto after = ctl.run({"service", "status"});
  EXPECT_NE(after.text.find("DollhouseTelemetry: not installed"), std::string::npos) << after.text;
  auto twice = ctl.run({"service", "uninstall"});
  EXPECT_EQ(twice.exit_code, 0) << twice.text;
  EXPECT_NE(twice.text.find("the service was not installed"), std::string::npos) << twice.text;
}

TEST(CtlWindows, ArgumentsReachTheChildExactlyAsGiven) {
  const std::vector<std::string> args = {
      "plain", "with space", "quote\"inside", "trailing backslash\\", "back\\\\slashes\\\"quote",
      ""};
  std::vector<std::string> command = {self_path(), "--print-args"};
  command.insert(command.end(), args.begin(), args.end());
  auto out = platform::run_command(command);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::string expected;
  for (const auto& a : args) expected += "[" + a + "]\n";
  std::erase(out.text, '\r');  // the child's standard output is in text mode
  EXPECT_EQ(out.text, expected);
}

TEST(CtlWindows, MissingProgramsAreReportedAs127) {
  auto out = platform::run_command({"C:\\no\\such\\program.exe"});
  EXPECT_EQ(out.exit_code, 127);
  EXPECT_NE(out.text.find("cannot run C:\\no\\such\\program.exe: "), std::string::npos) << out.text;
}

TEST(CtlWindows, PrivateFilesAreWrittenWholeAndReplaced) {
  TempDir dir;
  const std::string path = dir.file("export.json");
  ASSERT_TRUE(write_private_file(path, "first\n"));
  ASSERT_TRUE(write_private_file(path, "{\"events\": []}\n"));
  EXPECT_EQ(read_file(path), "{\"events\": []}\n");
  EXPECT_FALSE(fs::exists(win32::widen(path + ".tmp")));
}

}  // namespace
}  // namespace dollhouse::testing

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--print-args") {
    for (int i = 2; i < argc; ++i) std::cout << "[" << argv[i] << "]\n";
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
