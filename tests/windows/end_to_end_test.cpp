// The Windows programs end to end, as a user runs them: dollhouse-telemetryd.exe in a console
// (and under the service control manager), dollhousectl.exe, and dollhouse-telemetry-demo.exe
// sending over the named pipe; uploads go through WinHTTP to the reference ingestion server.
//
// The server is the Linux dollhouse-telemetry-server, started by tests/windows/with_server.sh
// around this program, which passes its address in DOLLHOUSE_TEST_SERVER_URL; without it the
// upload test is skipped and everything else still runs.
//
// Every test has its own data root and pipe name, so the tests may run in any order.
#include <windows.h>
#include <winhttp.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/environment.hpp"
#include "common/win32.hpp"
#include "ctl/platform.hpp"
#include "tests/support/endpoints.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/windows/wine.hpp"
#include "windows-service/service_host.hpp"

namespace dollhouse::testing {

namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace platform = ctl::platform;

// How long a daemon may take to listen, or to exit, on a loaded machine under Wine.
constexpr seconds kStartDeadline{60};
// How often a waiting test looks again.
constexpr milliseconds kPollInterval{50};

std::string bin(const std::string& program) {
  return platform::join_path(platform::own_directory(), program + ".exe");
}

std::string read_file(const std::string& path) {
  std::ifstream in(std::filesystem::path(win32::widen(path)), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits for `ready` until `deadline` passes; returns its last answer.
template <typename Ready>
bool wait_until(Ready ready, std::chrono::steady_clock::duration deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > until) return ready();
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

std::string quote(const std::string& arg) {
  std::string out = "\"";
  for (char c : arg) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Sets (or with nullptr removes) a variable for this process and the programs it starts.
void set_variable(const char* name, const char* value) {
  ::SetEnvironmentVariableW(win32::widen(name).c_str(),
                            value != nullptr ? win32::widen(value).c_str() : nullptr);
}

// Sets a variable for one scope, then puts back what was there.
class ScopedVariable {
 public:
  ScopedVariable(const char* name, const std::string& value)
      : name_(name), previous_(win32::environment_variable(name)) {
    set_variable(name, value.c_str());
  }
  ~ScopedVariable() { set_variable(name_, previous_ ? previous_->c_str() : nullptr); }
  ScopedVariable(const ScopedVariable&) = delete;
  ScopedVariable& operator=(const ScopedVariable&) = delete;

 private:
  const char* name_;
  std::optional<std::string> previous_;
};

// One dollhouse-telemetryd.exe in the console, its standard error in a file.
class DaemonProcess {
 public:
  DaemonProcess(const std::string& root, const std::string& pipe, const std::string& log) {
    SECURITY_ATTRIBUTES inherit{sizeof(inherit), nullptr, TRUE};
    HANDLE err =
        ::CreateFileW(win32::widen(log).c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                      &inherit, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    log_ = log;
    std::string command = quote(bin("dollhouse-telemetryd")) + " --home " + quote(root) +
                          " --socket " + quote(pipe) + " --log-level debug";
    std::wstring wide = win32::widen(command);
    STARTUPINFOW si{};
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = nullptr;
    si.hStdOutput = err;
    si.hStdError = err;
    PROCESS_INFORMATION pi{};
    if (::CreateProcessW(nullptr, wide.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW, nullptr,
                         nullptr, &si, &pi)) {
      ::CloseHandle(pi.hThread);
      process_ = pi.hProcess;
    }
    ::CloseHandle(err);
  }
  ~DaemonProcess() {
    if (process_ == nullptr) return;
    if (!exit_code(milliseconds(0))) {
      ::TerminateProcess(process_, 1);
      ::WaitForSingleObject(process_, 30'000);
    }
    ::CloseHandle(process_);
  }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  bool started() const { return process_ != nullptr; }
  std::string output() const { return read_file(log_); }
  bool wait_listening() const {
    return wait_until(
               [&] {
                 return output().find("listening on") != std::string::npos ||
                        exit_code(milliseconds(0));
               },
               kStartDeadline) &&
           output().find("listening on") != std::string::npos;
  }
  std::optional<DWORD> exit_code(milliseconds wait) const {
    if (::WaitForSingleObject(process_, static_cast<DWORD>(wait.count())) != WAIT_OBJECT_0) {
      return std::nullopt;
    }
    DWORD code = 0;
    ::GetExitCodeProcess(process_, &code);
    return code;
  }
  // As a crash or the task manager would: no shutdown code runs.
  void terminate() {
    ::TerminateProcess(process_, 9);
    ::WaitForSingleObject(process_, 30'000);
  }

 private:
  HANDLE process_ = nullptr;
  std::string log_;
};

// A data root, a pipe name and the commands a user types against them.
class Installation {
 public:
  Installation() : root_(dir_.file("root")), pipe_(dir_.endpoint("e2e")) {}

  std::unique_ptr<DaemonProcess> start_daemon(int n = 0) const {
    return std::make_unique<DaemonProcess>(root_, pipe_,
                                           dir_.file("daemon-" + std::to_string(n) + ".log"));
  }
  platform::CommandOutput ctl(std::vector<std::string> args) const {
    args.insert(args.begin(),
                {bin("dollhousectl"), "--no-start", "--home", root_, "--socket", pipe_});
    return platform::run_command(args);
  }
  platform::CommandOutput demo() const {
    return platform::run_command(
        {bin("dollhouse-telemetry-demo"), "--home", root_, "--socket", pipe_});
  }
  json ctl_json(std::vector<std::string> args) const {
    args.push_back("--json");
    auto out = ctl(std::move(args));
    // The JSON document is the whole standard output; anything before '{' or '[' is a warning.
    auto at = out.text.find_first_of("[{");
    return at == std::string::npos ? json() : json::parse(out.text.substr(at), nullptr, false);
  }
  json show() const { return ctl_json({"telemetry", "show"}); }
  json status() const { return ctl_json({"telemetry", "status"}); }
  const std::string& root() const { return root_; }
  const std::string& pipe() const { return pipe_; }

 private:
  TempDir dir_;
  std::string root_;
  std::string pipe_;
};

std::int64_t count_type(const json& entries, const std::string& type) {
  std::int64_t n = 0;
  for (const auto& e : entries) n += e.value("eventType", "") == type ? 1 : 0;
  return n;
}

// How the test's own client treats the server's certificate.
enum Trust { kSystemStore, kTestCa };

// GET through WinHTTP (the test's own client for the server's stats API). With kTestCa it
// accepts the throwaway CA of tests/windows/with_server.sh, whose server is on this machine and
// which only the daemon under test is asked to verify.
std::optional<json> http_get_json(const std::string& url, Trust trust = kSystemStore) {
  std::wstring wide = win32::widen(url);
  URL_COMPONENTS parts{};
  parts.dwStructSize = sizeof(parts);
  wchar_t host[256];
  wchar_t path[2048];
  parts.lpszHostName = host;
  parts.dwHostNameLength = 256;
  parts.lpszUrlPath = path;
  parts.dwUrlPathLength = 2048;
  if (!::WinHttpCrackUrl(wide.c_str(), 0, 0, &parts)) return std::nullopt;
  HINTERNET session = ::WinHttpOpen(L"e2e", WINHTTP_ACCESS_TYPE_NO_PROXY, WINHTTP_NO_PROXY_NAME,
                                    WINHTTP_NO_PROXY_BYPASS, 0);
  HINTERNET conn = ::WinHttpConnect(session, host, parts.nPort, 0);
  const DWORD secure = parts.nScheme == INTERNET_SCHEME_HTTPS ? WINHTTP_FLAG_SECURE : 0;
  HINTERNET req = ::WinHttpOpenRequest(conn, L"GET", path, nullptr, WINHTTP_NO_REFERER,
                                       WINHTTP_DEFAULT_ACCEPT_TYPES, secure);
  if (req != nullptr && secure != 0 && trust == kTestCa) {
    DWORD flags = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_CN_INVALID |
                  SECURITY_FLAG_IGNORE_CERT_DATE_INVALID | SECURITY_FLAG_IGNORE_CERT_WRONG_USAGE;
    ::WinHttpSetOption(req, WINHTTP_OPTION_SECURITY_FLAGS, &flags, sizeof(flags));
  }
  std::string body;
  bool ok = req != nullptr &&
            ::WinHttpSendRequest(req, WINHTTP_NO_ADDITIONAL_HEADERS, 0, nullptr, 0, 0, 0) &&
            ::WinHttpReceiveResponse(req, nullptr);
  while (ok) {
    char buf[4096];
    DWORD got = 0;
    if (!::WinHttpReadData(req, buf, sizeof(buf), &got) || got == 0) break;
    body.append(buf, got);
  }
  for (HINTERNET h : {req, conn, session}) {
    if (h != nullptr) ::WinHttpCloseHandle(h);
  }
  if (!ok) return std::nullopt;
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

TEST(WindowsEndToEnd, WithoutConsentTheDemoLeavesNothingStored) {
  Installation inst;
  auto daemon = inst.start_daemon();
  ASSERT_TRUE(daemon->wait_listening()) << daemon->output();
  auto demo = inst.demo();
  EXPECT_EQ(demo.exit_code, 0) << demo.text;
  EXPECT_NE(demo.text.find("The daemon confirmed"), std::string::npos) << demo.text;
  json entries = inst.show();
  ASSERT_TRUE(entries.is_array()) << entries.dump();
  EXPECT_TRUE(entries.empty()) << entries.dump();
  json status = inst.status();
  EXPECT_EQ(status["queue"]["pending"], 0) << status.dump();
  EXPECT_FALSE(status["consent"]["given"].get<bool>()) << status.dump();
}

TEST(WindowsEndToEnd, ConsentedEventsAreListedAndUploadedThroughWinHttp) {
  const char* server = std::getenv("DOLLHOUSE_TEST_SERVER_URL");
  if (server == nullptr || *server == '\0') {
    GTEST_SKIP() << "DOLLHOUSE_TEST_SERVER_URL is not set (tests/windows/with_server.sh sets it)";
  }
  Installation inst;
  ScopedVariable endpoint("DOLLHOUSE_TELEMETRY_ENDPOINT",
                          std::string(server) + "/api/v1/telemetry");
  auto daemon = inst.start_daemon();
  ASSERT_TRUE(daemon->wait_listening()) << daemon->output();
  auto before = http_get_json(std::string(server) + "/api/v1/stats/installations");
  ASSERT_TRUE(before.has_value());

  auto enable = inst.ctl({"telemetry", "enable"});
  ASSERT_EQ(enable.exit_code, 0) << enable.text;
  auto demo = inst.demo();
  ASSERT_EQ(demo.exit_code, 0) << demo.text;
  json entries = inst.show();
  ASSERT_TRUE(entries.is_array()) << entries.dump();
  const std::int64_t installations = count_type(entries, "installation");
  EXPECT_GE(installations, 1) << entries.dump();
  EXPECT_GE(count_type(entries, "error"), 1) << entries.dump();
  for (const auto& e : entries) EXPECT_FALSE(e["sentToServer"].get<bool>()) << e.dump();

  auto flush = inst.ctl({"telemetry", "flush"});
  EXPECT_EQ(flush.exit_code, 0) << flush.text << daemon->output();
  json status = inst.status();
  EXPECT_EQ(status["queue"]["pending"], 0) << status.dump();
  EXPECT_EQ(status["queue"]["sent"], static_cast<std::int64_t>(entries.size())) << status.dump();
  for (const auto& e : inst.show()) EXPECT_TRUE(e["sentToServer"].get<bool>()) << e.dump();

  auto after = http_get_json(std::string(server) + "/api/v1/stats/installations");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ((*after)["total"].get<std::int64_t>() - (*before)["total"].get<std::int64_t>(),
            installations)
      << after->dump();
}

// HTTPS through WinHTTP to a server whose certificate comes from a CA no Windows store trusts:
// refused (nothing is marked sent, the events stay queued) until DOLLHOUSE_TELEMETRY_CA_FILE
// names that CA, then uploaded once and counted by the server.
TEST(WindowsEndToEnd, HttpsUploadsVerifyTheServerAgainstTheCaFile) {
  const char* server = std::getenv("DOLLHOUSE_TEST_TLS_SERVER_URL");
  const char* ca_file = std::getenv("DOLLHOUSE_TEST_CA_FILE");
  if (server == nullptr || *server == '\0' || ca_file == nullptr) {
    GTEST_SKIP()
        << "DOLLHOUSE_TEST_TLS_SERVER_URL is not set (tests/windows/with_server.sh sets it)";
  }
  Installation inst;
  ScopedVariable endpoint("DOLLHOUSE_TELEMETRY_ENDPOINT",
                          std::string(server) + "/api/v1/telemetry");
  std::int64_t queued = 0;
  {
    auto daemon = inst.start_daemon(0);
    ASSERT_TRUE(daemon->wait_listening()) << daemon->output();
    ASSERT_EQ(inst.ctl({"telemetry", "enable"}).exit_code, 0);
    ASSERT_EQ(inst.demo().exit_code, 0);
    queued = static_cast<std::int64_t>(inst.show().size());
    ASSERT_GE(queued, 1);
    auto flush = inst.ctl({"telemetry", "flush"});
    EXPECT_NE(flush.exit_code, 0) << "an untrusted certificate must fail: " << flush.text;
    json status = inst.status();
    EXPECT_EQ(status["queue"]["pending"], queued) << status.dump();
    EXPECT_EQ(status["queue"]["sent"], 0) << status.dump();
    ASSERT_EQ(inst.ctl({"daemon", "stop"}).exit_code, 0);
    EXPECT_TRUE(daemon->exit_code(kStartDeadline).has_value());
  }
  auto before = http_get_json(std::string(server) + "/api/v1/stats/installations", kTestCa);
  ASSERT_TRUE(before.has_value()) << "the test's own client trusts the CA file";
  ScopedVariable trust("DOLLHOUSE_TELEMETRY_CA_FILE", ca_file);
  auto daemon = inst.start_daemon(1);
  ASSERT_TRUE(daemon->wait_listening()) << daemon->output();
  auto flush = inst.ctl({"telemetry", "flush"});
  EXPECT_EQ(flush.exit_code, 0) << flush.text << daemon->output();
  json status = inst.status();
  EXPECT_EQ(status["queue"]["pending"], 0) << status.dump();
  EXPECT_EQ(status["queue"]["sent"], queued) << status.dump();
  auto after = http_get_json(std::string(server) + "/api/v1/stats/installations", kTestCa);
  ASSERT_TRUE(after.has_value());
  EXPECT_GE((*after)["total"].get<std::int64_t>() - (*before)["total"].get<std::int64_t>(), 1)
      << after->dump();
}

// The demo's error message carries this Windows account's real profile path (USERPROFILE); what
// the daemon stores and shows has it replaced, and neither the account nor the computer name
// appears anywhere in what would be uploaded.
TEST(WindowsEndToEnd, ShowListsTheEventsWithWindowsPersonalDataRemoved) {
  Installation inst;
  auto daemon = inst.start_daemon();
  ASSERT_TRUE(daemon->wait_listening()) << daemon->output();
  ASSERT_EQ(inst.ctl({"telemetry", "enable"}).exit_code, 0);
  ASSERT_EQ(inst.demo().exit_code, 0);
  json entries = inst.show();
  ASSERT_TRUE(entries.is_array()) << entries.dump();
  ASSERT_GE(count_type(entries, "error"), 1) << entries.dump();
  int with_path = 0;
  for (const auto& e : entries) {
    const json& data = e["data"];
    if (data.value("errorCategory", "") != "ENOENT") continue;  // the one with the home path
    ++with_path;
    const std::string message = data.value("errorMessage", "");
    EXPECT_NE(message.find("<user>"), std::string::npos) << e.dump();
    EXPECT_NE(message.find(".dollhouse"), std::string::npos) << "the path's shape is kept";
  }
  EXPECT_EQ(with_path, 1) << entries.dump();
  const std::string all = entries.dump();
  const char* profile = std::getenv("USERPROFILE");
  ASSERT_NE(profile, nullptr);
  std::string profile_json = json(std::string(profile)).dump();  // as it would appear, escaped
  profile_json = profile_json.substr(1, profile_json.size() - 2);
  EXPECT_EQ(all.find(profile_json), std::string::npos) << all;
  if (const char* computer = std::getenv("COMPUTERNAME"); computer && std::strlen(computer) > 2) {
    EXPECT_EQ(all.find(computer), std::string::npos) << all;
  }
}

TEST(WindowsEndToEnd, TerminatedAfterSyncTheDaemonLosesNothing) {
  Installation inst;
  auto daemon = inst.start_daemon();
  ASSERT_TRUE(daemon->wait_listening()) << daemon->output();
  ASSERT_EQ(inst.ctl({"telemetry", "enable"}).exit_code, 0);
  auto demo = inst.demo();  // the demo's flush is a sync: its events are durable when it ends
  ASSERT_NE(demo.text.find("The daemon confirmed"), std::string::npos) << demo.text;
  json entries = inst.show();
  ASSERT_TRUE(entries.is_array());
  ASSERT_FALSE(entries.empty());

  daemon->terminate();
  auto again = inst.start_daemon(1);
  ASSERT_TRUE(again->wait_listening()) << again->output();
  json after = inst.show();
  EXPECT_EQ(after.size(), entries.size()) << after.dump();
  EXPECT_EQ(inst.status()["queue"]["pending"], static_cast<std::int64_t>(entries.size()));
}

TEST(WindowsEndToEnd, ASecondDaemonOnTheSameDataRootIsRefused) {
  Installation inst;
  auto first = inst.start_daemon();
  ASSERT_TRUE(first->wait_listening()) << first->output();
  // Same data root, another pipe: the data root's lock, not the pipe, refuses it.
  TempDir other;
  DaemonProcess second(inst.root(), other.endpoint("second"), other.file("second.log"));
  ASSERT_TRUE(second.started());
  auto code = second.exit_code(std::chrono::duration_cast<milliseconds>(kStartDeadline));
  ASSERT_TRUE(code.has_value()) << second.output();
  EXPECT_NE(*code, 0u);
  EXPECT_NE(second.output().find("already running"), std::string::npos) << second.output();
  EXPECT_EQ(inst.ctl({"telemetry", "status"}).exit_code, 0) << "the first one still serves";
}

TEST(WindowsEndToEnd, KillSwitchesSilenceTheAppAndTheDaemon) {
  Installation inst;
  {
    // The app's own environment: its client is a no-op and says so.
    auto daemon = inst.start_daemon();
    ASSERT_TRUE(daemon->wait_listening()) << daemon->output();
    ASSERT_EQ(inst.ctl({"telemetry", "enable"}).exit_code, 0);
    ScopedVariable dnt("DO_NOT_TRACK", "1");
    auto demo = inst.demo();
    EXPECT_EQ(demo.exit_code, 0) << demo.text;
    EXPECT_NE(demo.text.find("Telemetry is off here"), std::string::npos) << demo.text;
    EXPECT_TRUE(inst.show().empty());
  }
  {
    // The daemon's environment: consent stands, but nothing is stored and status says why.
    std::unique_ptr<DaemonProcess> daemon;
    {
      ScopedVariable off("DOLLHOUSE_TELEMETRY", "off");  // the daemon's, not the demo's
      daemon = inst.start_daemon(1);
    }
    ASSERT_TRUE(daemon->wait_listening()) << daemon->output();
    auto demo = inst.demo();
    EXPECT_EQ(demo.exit_code, 0) << demo.text;
    EXPECT_TRUE(inst.show().empty());
    json status = inst.status();
    EXPECT_FALSE(status["overriddenBy"].is_null()) << status.dump();
    EXPECT_NE(status["overriddenBy"].dump().find("DOLLHOUSE_TELEMETRY"), std::string::npos)
        << status.dump();
  }
}

TEST(WindowsEndToEnd, DeleteLocalRemovesEveryStoredEvent) {
  Installation inst;
  auto daemon = inst.start_daemon();
  ASSERT_TRUE(daemon->wait_listening()) << daemon->output();
  ASSERT_EQ(inst.ctl({"telemetry", "enable"}).exit_code, 0);
  ASSERT_EQ(inst.demo().exit_code, 0);
  ASSERT_FALSE(inst.show().empty());
  auto deleted = inst.ctl({"telemetry", "delete", "--local"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.text;
  EXPECT_TRUE(inst.show().empty());
  EXPECT_EQ(inst.status()["queue"]["pending"], 0);
}

// The daemon under the service control manager, registered as an ordinary own-process service
// (Wine's manager has no per-user services, which `dollhousectl service install` asks for),
// started, queried and stopped with `dollhousectl service start|status|stop`. A
// service gets the manager's environment, not this test's: the upload endpoint is passed on its
// command line, so that nothing leaves the machine.
TEST(WindowsEndToEnd, TheDaemonRunsAndStopsAsAService) {
  Installation inst;
  SC_HANDLE scm = ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ALL_ACCESS);
  ASSERT_NE(scm, nullptr);
  const std::string command = quote(bin("dollhouse-telemetryd")) + " --service --home " +
                              quote(inst.root()) + " --socket " + quote(inst.pipe()) +
                              " --endpoint " + quote(kRefusedEndpoint);
  SC_HANDLE service = register_own_process_service(scm, command);
  ASSERT_NE(service, nullptr) << win32::error_text(::GetLastError());
  auto query = [&] {
    SERVICE_STATUS st{};
    ::QueryServiceStatus(service, &st);
    return st.dwCurrentState;
  };
  auto started = inst.ctl({"service", "start"});
  EXPECT_EQ(started.exit_code, 0) << started.text;
  EXPECT_NE(started.text.find("running"), std::string::npos) << started.text;
  EXPECT_EQ(query(), static_cast<DWORD>(SERVICE_RUNNING));
  auto again = inst.ctl({"service", "start"});
  EXPECT_EQ(again.exit_code, 0) << again.text;
  EXPECT_NE(again.text.find("already running"), std::string::npos) << again.text;
  EXPECT_TRUE(wait_until(
      [&] {
        return inst.ctl({"telemetry", "status"}).exit_code == 0;
      },
      kStartDeadline));
  auto listed = inst.ctl({"service", "status"});
  EXPECT_NE(listed.text.find("DollhouseTelemetry: installed"), std::string::npos) << listed.text;
  EXPECT_EQ(inst.ctl({"telemetry", "enable"}).exit_code, 0);
  EXPECT_EQ(inst.demo().exit_code, 0);
  EXPECT_FALSE(inst.show().empty());

  auto stopped = inst.ctl({"service", "stop"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.text;
  EXPECT_EQ(query(), static_cast<DWORD>(SERVICE_STOPPED));
  auto not_running = inst.ctl({"service", "stop"});
  EXPECT_EQ(not_running.exit_code, 0) << not_running.text;
  EXPECT_NE(not_running.text.find("not running"), std::string::npos) << not_running.text;
  EXPECT_EQ(inst.ctl({"telemetry", "status"}).exit_code, 3) << "stopped, the pipe is gone";
  ::DeleteService(service);
  ::CloseServiceHandle(service);
  ::CloseServiceHandle(scm);
}

}  // namespace
}  // namespace dollhouse::testing

int main(int argc, char** argv) {
  // The CI machine's variables would switch telemetry off in every program these tests start.
  for (const auto& name : dollhouse::ci_variables()) {
    dollhouse::testing::set_variable(name.c_str(), nullptr);
  }
  for (const char* name : {"DO_NOT_TRACK", "DOLLHOUSE_TELEMETRY", "DOLLHOUSE_HOME",
                           "DOLLHOUSE_TELEMETRY_SOCKET", "DOLLHOUSE_TELEMETRY_CA_FILE"}) {
    dollhouse::testing::set_variable(name, nullptr);
  }
  // Unless a test names the reference server, uploads go to a loopback port where nothing
  // listens: nothing ever leaves the machine.
  dollhouse::testing::set_variable("DOLLHOUSE_TELEMETRY_ENDPOINT",
                                   dollhouse::testing::kRefusedEndpoint);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
