// dollhousectl service install|uninstall|status against a stand-in systemctl or launchctl on
// PATH (one that works and logs its arguments, or one that cannot reach a user manager, as in
// containers), with XDG_CONFIG_HOME and HOME in a temp directory: the real ~/.config and
// ~/Library are never touched.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::testing {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ServiceCtl : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.file("home"));
    fs::create_directories(dir_.file("fakebin"));
  }

  // A systemctl that logs its arguments to systemctl.log and exits with `exit_code`.
  void fake_systemctl(int exit_code) {
    const std::string path = dir_.file("fakebin/systemctl");
    {
      std::ofstream script(path, std::ios::trunc);
      script << "#!/bin/sh\necho \"$*\" >> '" << log() << "'\n";
      if (exit_code != 0) script << "echo 'Failed to connect to bus: No medium found' >&2\n";
      script << "exit " << exit_code << "\n";
    }
    ::chmod(path.c_str(), 0755);
  }

  RunResult ctl(const std::vector<std::string>& args) {
    Env env = base_env(dir_.file("home"));
    env["PATH"] = dir_.file("fakebin") + ":/usr/bin:/bin";
    env["XDG_CONFIG_HOME"] = dir_.file("config");
    std::vector<std::string> argv = {build_bin("dollhousectl"), "service"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, env);
  }

  std::string log() const { return dir_.file("systemctl.log"); }
  std::string unit(const std::string& name) const {
    return dir_.file("config/systemd/user/") + name;
  }
  std::string socket_unit() const { return unit("dollhouse-telemetry.socket"); }
  std::string service_unit() const { return unit("dollhouse-telemetry.service"); }

  TempDir dir_;
};

TEST_F(ServiceCtl, DryRunPrintsEveryStepAndChangesNothing) {
  fake_systemctl(0);
  RunResult r = ctl({"install", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("write: " + socket_unit()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("write: " + service_unit()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run: systemctl --user daemon-reload"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run: systemctl --user enable --now dollhouse-telemetry.socket"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(dir_.file("config")));
  EXPECT_FALSE(fs::exists(log())) << "systemctl ran during a dry run";
}

TEST_F(ServiceCtl, InstallWritesUnitsWithTheDaemonPathAndEnablesTheSocket) {
  fake_systemctl(0);
  RunResult r = ctl({"install"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string bindir = fs::canonical(build_bin("dollhousectl")).parent_path().string();
  std::string service = read_file(service_unit());
  EXPECT_NE(service.find("ExecStart=" + bindir + "/dollhouse-telemetryd\n"), std::string::npos)
      << service;
  EXPECT_EQ(service.find("@BINDIR@"), std::string::npos) << "the placeholder was left";
  EXPECT_NE(read_file(socket_unit()).find("ListenStream=%t/dollhouse/telemetry.sock"),
            std::string::npos);
  EXPECT_EQ(read_file(log()),
            "--user daemon-reload\n--user enable --now dollhouse-telemetry.socket\n");
  EXPECT_FALSE(fs::exists(dir_.file("home/.config"))) << "XDG_CONFIG_HOME was not respected";
}

TEST_F(ServiceCtl, InstallWithoutAUserManagerWritesTheFilesSaysSoAndExitsOne) {
  fake_systemctl(1);
  RunResult r = ctl({"install"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(fs::exists(socket_unit()));
  EXPECT_TRUE(fs::exists(service_unit()));
  EXPECT_NE(r.err.find("cannot reach a user service manager"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unit files are written"), std::string::npos) << r.err;
}

TEST_F(ServiceCtl, UninstallDisablesRemovesAndReloads) {
  fake_systemctl(0);
  ASSERT_EQ(ctl({"install"}).exit_code, 0);
  RunResult r = ctl({"uninstall"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(fs::exists(socket_unit()));
  EXPECT_FALSE(fs::exists(service_unit()));
  EXPECT_NE(r.out.find("remove: " + service_unit()), std::string::npos) << r.out;
  EXPECT_NE(read_file(log()).find("--user disable --now dollhouse-telemetry.socket "
                                  "dollhouse-telemetry.service\n--user daemon-reload\n"),
            std::string::npos)
      << read_file(log());
}

TEST_F(ServiceCtl, UninstallWithoutAUserManagerStillRemovesTheFilesAndExitsOne) {
  fake_systemctl(1);
  ASSERT_EQ(ctl({"install"}).exit_code, 1);
  RunResult r = ctl({"uninstall"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_FALSE(fs::exists(socket_unit()));
  EXPECT_FALSE(fs::exists(service_unit()));
  EXPECT_NE(r.err.find("cannot reach a user service manager"), std::string::npos) << r.err;
}

TEST_F(ServiceCtl, StatusReportsFilesAndWhatSystemctlSays) {
  fake_systemctl(0);
  RunResult r = ctl({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dollhouse-telemetry.socket: not installed"), std::string::npos) << r.out;
  EXPECT_NE(read_file(log()).find("--user is-active dollhouse-telemetry.socket"),
            std::string::npos);
  fake_systemctl(1);
  r = ctl({"status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach a user service manager"), std::string::npos) << r.err;
}

TEST_F(ServiceCtl, WithoutAHomeOrConfigDirectoryNothingIsWrittenAnywhere) {
  fake_systemctl(0);
  // A relative HOME is as unusable as none, and should a regression write anyway, it writes
  // below the test's working directory rather than under /.
  Env env = base_env("relative-home");
  env["PATH"] = dir_.file("fakebin") + ":/usr/bin:/bin";
  RunResult r = run_process({build_bin("dollhousectl"), "service", "install"}, env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("neither XDG_CONFIG_HOME nor HOME"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(log())) << "systemctl ran without unit files";
}

// ---- launchd ------------------------------------------------------------------------------
// The LaunchAgent is written the same way on any POSIX system; only launchctl needs macOS, so a
// stand-in launchctl logs what it is asked to do.

TEST_F(ServiceCtl, StartAndStopActOnTheSocketAndTheServiceAndKeepTheUnits) {
  fake_systemctl(0);
  RunResult r = ctl({"start"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("not installed: run `dollhousectl service install` first"),
            std::string::npos)
      << r.err;
  ASSERT_EQ(ctl({"install"}).exit_code, 0);
  fs::remove(log());
  r = ctl({"stop"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("queued events stay queued"), std::string::npos) << r.out;
  r = ctl({"start"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(read_file(log()),
            "--user stop dollhouse-telemetry.service dollhouse-telemetry.socket\n"
            "--user start dollhouse-telemetry.socket dollhouse-telemetry.service\n");
  EXPECT_TRUE(fs::exists(socket_unit()));
  EXPECT_TRUE(fs::exists(service_unit()));
  fake_systemctl(1);
  r = ctl({"stop"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach a user service manager"), std::string::npos) << r.err;
}

class LaunchdServiceCtl : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.file("home"));
    fs::create_directories(dir_.file("fakebin"));
    const std::string path = dir_.file("fakebin/launchctl");
    {
      std::ofstream script(path, std::ios::trunc);
      script << "#!/bin/sh\necho \"$*\" >> '" << log() << "'\n";
    }
    ::chmod(path.c_str(), 0755);
  }

  RunResult ctl(const std::vector<std::string>& args, Env extra = {}) {
    Env env = base_env(home());
    env["PATH"] = dir_.file("fakebin") + ":/usr/bin:/bin";
    for (auto& [k, v] : extra) env[k] = v;
    std::vector<std::string> argv = {build_bin("dollhousectl"), "service"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--manager");
    argv.push_back("launchd");
    return run_process(argv, env);
  }

  std::string home() const { return dir_.file("home"); }
  std::string log() const { return dir_.file("launchctl.log"); }
  std::string plist() const {
    return home() + "/Library/LaunchAgents/com.dollhousemcp.telemetry.plist";
  }
  std::string domain() const { return "gui/" + std::to_string(::getuid()); }

  TempDir dir_;
};

TEST_F(LaunchdServiceCtl, DryRunPrintsEveryStepAndChangesNothing) {
  RunResult r = ctl({"install", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("write: " + plist()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run: launchctl bootstrap " + domain() + " " + plist()), std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(home() + "/Library"));
  EXPECT_FALSE(fs::exists(home() + "/.dollhouse"));
  EXPECT_FALSE(fs::exists(log())) << "launchctl ran during a dry run";
}

TEST_F(LaunchdServiceCtl, InstallWritesAValidAgentWithAbsolutePathsAndBootstrapsIt) {
  RunResult r = ctl({"install"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The plist parses and has every key and type launchd needs (the same lint CI runs on the
  // template), with this user's paths.
  RunResult lint = run_process(
      {"/usr/bin/python3",
       std::string(std::getenv("DOLLHOUSE_SOURCE_DIR")) + "/tests/service/lint_launchd_plist.py",
       "installed", plist(), home()},
      base_env(home()));
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  const std::string text = read_file(plist());
  const std::string bindir = fs::canonical(build_bin("dollhousectl")).parent_path().string();
  EXPECT_NE(text.find("<string>" + bindir + "/dollhouse-telemetryd</string>"), std::string::npos)
      << text;
  EXPECT_NE(text.find("<string>" + home() + "/.dollhouse</string>"), std::string::npos) << text;
  EXPECT_NE(text.find("<string>" + home() + "/.dollhouse/run/telemetry.sock</string>"),
            std::string::npos)
      << text;
  // launchd creates the socket, not its directory: install made it, private.
  struct stat st {};
  ASSERT_EQ(::stat((home() + "/.dollhouse/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(read_file(log()), "bootout " + domain() + "/com.dollhousemcp.telemetry\nbootstrap " +
                                  domain() + " " + plist() + "\n");
}

TEST_F(LaunchdServiceCtl, DataRootAndSocketFollowTheEnvironmentAndAreEscaped) {
  const std::string root = dir_.file("data & <root>");
  RunResult r = ctl({"install"}, {{"DOLLHOUSE_HOME", root}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string text = read_file(plist());
  EXPECT_NE(text.find("data &amp; &lt;root&gt;/run/telemetry.sock"), std::string::npos) << text;
  EXPECT_TRUE(fs::is_directory(root + "/run"));
}

TEST_F(LaunchdServiceCtl, InstallUsesAnExistingStickySharedSocketDirectoryUnchanged) {
  const std::string shared = dir_.file("shared");
  ASSERT_EQ(::mkdir(shared.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);  // like /tmp
  RunResult r = ctl({"install"}, {{"DOLLHOUSE_TELEMETRY_SOCKET", shared + "/telemetry.sock"}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(shared.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
}

TEST_F(LaunchdServiceCtl, InstallRefusesASocketDirectoryOthersCanWriteAndLeavesItUnchanged) {
  const std::string open_dir = dir_.file("open");
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0777), 0);
  RunResult r = ctl({"install"}, {{"DOLLHOUSE_TELEMETRY_SOCKET", open_dir + "/telemetry.sock"}});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(open_dir + " is writable by other users"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(plist()));
  struct stat st {};
  ASSERT_EQ(::stat(open_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0777u);
}

TEST_F(LaunchdServiceCtl, UninstallBootsOutAndRemovesThePlist) {
  ASSERT_EQ(ctl({"install"}).exit_code, 0);
  RunResult r = ctl({"uninstall"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(fs::exists(plist()));
  EXPECT_NE(r.out.find("remove: " + plist()), std::string::npos) << r.out;
  RunResult status = ctl({"status"});
  EXPECT_NE(status.out.find("com.dollhousemcp.telemetry: not installed"), std::string::npos)
      << status.out;
}

TEST_F(LaunchdServiceCtl, StopBootsOutAndStartLoadsAndKickstartsKeepingThePlist) {
  RunResult r = ctl({"stop"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("LaunchAgent is not installed"), std::string::npos) << r.err;
  ASSERT_EQ(ctl({"install"}).exit_code, 0);
  fs::remove(log());
  r = ctl({"stop"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = ctl({"start"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string label = domain() + "/com.dollhousemcp.telemetry";
  EXPECT_EQ(read_file(log()), "bootout " + label + "\nbootstrap " + domain() + " " + plist() +
                                  "\nkickstart " + label + "\n");
  EXPECT_TRUE(fs::exists(plist()));
}

TEST_F(LaunchdServiceCtl, WithoutLaunchctlTheAgentIsWrittenAndTheUserIsToldHowToLoadIt) {
  fs::remove(dir_.file("fakebin/launchctl"));
  RunResult r = ctl({"install"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(fs::exists(plist()));
  EXPECT_NE(r.err.find("launchctl was not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("launchctl bootstrap " + domain()), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dollhouse::testing
