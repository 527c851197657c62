// dollhousectl's command line as a user meets it: suggestions for mistyped commands and flags,
// a daemon that cannot start reported at once in its own words, the caller's kill switches kept
// from a daemon it starts, hints that work when copied, and show's --since forms and counts.
#include <signal.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/endpoints.hpp"
#include "tests/support/wait.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The spans of `text` between backquotes: the commands a hint offers.
std::vector<std::string> backquoted(const std::string& text) {
  std::vector<std::string> out;
  std::size_t open = text.find('`');
  while (open != std::string::npos) {
    std::size_t close = text.find('`', open + 1);
    if (close == std::string::npos) break;
    out.push_back(text.substr(open + 1, close - open - 1));
    open = text.find('`', close + 1);
  }
  return out;
}

// A command line split into words as a POSIX shell does for the forms hints use: blanks,
// single quotes and backslash escapes outside them.
std::vector<std::string> shell_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false, quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '\'') {
        quoted = false;
      } else {
        word.push_back(c);
      }
    } else if (c == '\'') {
      quoted = in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word.push_back(line[++i]);
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

// Stops a daemon that dollhousectl started (not the harness's own child): SIGTERM to the pid
// its status names, then waits until the process is gone (or a zombie of whoever adopted it).
void stop_started_daemon(const std::string& socket) {
  json status = TestClient(socket).request({{"op", "status"}});
  ASSERT_TRUE(status.is_object() && status.value("ok", false)) << status;
  const int pid = status["daemon"]["pid"].get<int>();
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_TRUE(wait_until([pid] { return process_gone(pid); })) << "daemon " << pid << " still runs";
}

// The environment of a dollhousectl that may start a daemon: uploads go nowhere.
Env ctl_env(const DaemonHarness& h, const Env& extra = {}) {
  Env e = h.env(extra);
  if (e.count("DOLLHOUSE_TELEMETRY_ENDPOINT") == 0) {
    e["DOLLHOUSE_TELEMETRY_ENDPOINT"] = kRefusedEndpoint;
  }
  return e;
}

// A copy of dollhousectl alone in a directory of its own, with no daemon next to it.
std::string lone_ctl(const TempDir& dir) {
  fs::create_directory(dir.file("bin"));
  const std::string copy = dir.file("bin/dollhousectl");
  fs::copy_file(build_bin("dollhousectl"), copy);
  fs::permissions(copy, fs::perms::owner_all);
  return copy;
}

const json kCrash = {{"eventType", "crash"},     {"errorType", "runtime"},
                     {"errorCategory", "EPIPE"}, {"errorMessage", "pipe closed"},
                     {"component", "MCPServer"}, {"recovered", false}};

// --- mistyped commands and flags -----------------------------------------------------------

TEST(CtlCli, AMistypedCommandGetsTheCloseOneSuggestedAndExitsTwo) {
  DaemonHarness h;
  RunResult r = h.ctl({"telemetry", "statsu"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(
      contains(r.err, "dollhousectl: unknown command \"statsu\" for \"dollhousectl telemetry\"\n"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "Did you mean \"status\"?")) << r.err;
  EXPECT_FALSE(contains(r.err, "A subcommand is required")) << r.err;

  RunResult top = h.ctl({"telemtry", "status"});
  EXPECT_EQ(top.exit_code, 2);
  EXPECT_TRUE(contains(top.err, "Did you mean \"telemetry\"?")) << top.err;
}

TEST(CtlCli, AnUnknownCommandWithNothingCloseGetsNoSuggestion) {
  DaemonHarness h;
  RunResult r = h.ctl({"telemetry", "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "unknown command \"frobnicate\" for \"dollhousectl telemetry\""))
      << r.err;
  EXPECT_FALSE(contains(r.err, "Did you mean")) << r.err;
}

TEST(CtlCli, AMistypedFlagGetsTheCloseOneSuggestedAndExitsTwo) {
  DaemonHarness h;
  RunResult r = h.ctl({"telemetry", "show", "--limt", "5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(
      contains(r.err, "dollhousectl: unknown flag \"--limt\" for \"dollhousectl telemetry show\""))
      << r.err;
  EXPECT_TRUE(contains(r.err, "Did you mean \"--limit\"?")) << r.err;

  RunResult global = h.ctl({"telemetry", "status", "--no-strat"});
  EXPECT_EQ(global.exit_code, 2);
  EXPECT_TRUE(contains(global.err, "Did you mean \"--no-start\"?")) << global.err;
}

TEST(CtlCli, HelpVersionAndGlobalFlagsAfterTheCommandKeepWorking) {
  DaemonHarness h;
  RunResult help = h.ctl({"telemetry", "show", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_TRUE(contains(help.out, "--limit")) << help.out;
  RunResult help_after_typo = h.ctl({"telemetry", "statsu", "--help"});
  EXPECT_EQ(help_after_typo.exit_code, 0) << help_after_typo.err;
  RunResult version = h.ctl({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(!version.out.empty() && std::isdigit(static_cast<unsigned char>(version.out[0])) &&
              contains(version.out, "."))
      << version.out;
  // Values are consumed (5, the paths) and global flags are known after the command, in both
  // forms: the parse succeeds and the command finds no daemon.
  RunResult run = run_process({build_bin("dollhousectl"), "telemetry", "show", "--limit", "5",
                               "--no-start", "--home=" + h.root(), "--socket", h.socket()},
                              h.env());
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_TRUE(contains(run.err, "daemon not running")) << run.err;
}

TEST(CtlCli, AMissingSubcommandListsTheSubcommandsAndExitsTwo) {
  DaemonHarness h;
  RunResult r = h.ctl({"telemetry"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "A subcommand is required")) << r.err;
  EXPECT_TRUE(contains(r.err, "Commands of \"dollhousectl telemetry\":\n")) << r.err;
  for (const char* name : {"\n  status ", "\n  show ", "\n  enable "}) {
    EXPECT_TRUE(contains(r.err, name)) << name << "\n" << r.err;
  }
}

// --- a daemon that cannot start --------------------------------------------------------------

TEST(CtlCli, ADaemonThatCannotStartIsReportedAtOnceInItsOwnWords) {
  DaemonHarness h;
  const std::string root = h.dir().file("a-file");
  std::ofstream(root) << "not a directory\n";
  const std::string socket = h.dir().file("s.sock");
  // What the daemon itself says about this data root.
  RunResult direct =
      run_process({build_bin("dollhouse-telemetryd"), "--home", root, "--socket", socket}, h.env());
  ASSERT_NE(direct.exit_code, 0);
  const std::string said = direct.err.substr(0, direct.err.find('\n'));
  ASSERT_TRUE(contains(said, root)) << direct.err;

  RunResult r = run_process(
      {build_bin("dollhousectl"), "--home", root, "--socket", socket, "telemetry", "status"},
      ctl_env(h));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(contains(r.err, "dollhousectl: the telemetry daemon could not start (exit status " +
                                  std::to_string(direct.exit_code) + ")"))
      << r.err;
  EXPECT_TRUE(contains(r.err, said)) << r.err;
  EXPECT_FALSE(contains(r.err, "within 10 s")) << r.err;
}

TEST(CtlCli, WithoutADaemonProgramItSaysItCannotRunOneAndWhereToPutIt) {
  TempDir dir;
  const std::string ctl = lone_ctl(dir);
  fs::create_directory(dir.file("empty"));
  Env env = base_env(dir.path());
  env["PATH"] = dir.file("empty");
  RunResult r = run_process(
      {ctl, "--home", dir.file("root"), "--socket", dir.file("s.sock"), "telemetry", "status"},
      env);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(contains(r.err, "dollhousectl: cannot run dollhouse-telemetryd")) << r.err;
  EXPECT_TRUE(contains(r.err, "next to dollhousectl (in " + dir.file("bin") + ")")) << r.err;
  EXPECT_TRUE(contains(r.err, "PATH")) << r.err;
}

TEST(CtlCli, ADaemonProgramThatCannotBeExecutedIsReportedWithTheSystemsReason) {
  TempDir dir;
  const std::string ctl = lone_ctl(dir);
  const std::string daemon = dir.file("bin/dollhouse-telemetryd");
  std::ofstream(daemon) << "neither a program nor a script\n";
  fs::permissions(daemon, fs::perms::owner_all);
  Env env = base_env(dir.path());
  env["PATH"] = "/nonexistent";
  RunResult r = run_process(
      {ctl, "--home", dir.file("root"), "--socket", dir.file("s.sock"), "telemetry", "status"},
      env);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(contains(r.err, "cannot run " + daemon + ": " + std::strerror(ENOEXEC))) << r.err;
  EXPECT_TRUE(contains(r.err, "Reinstall")) << r.err;
}

// --- kill switches are per process -----------------------------------------------------------

TEST(CtlCli, ADaemonItStartsDoesNotInheritTheCallersKillSwitches) {
  DaemonHarness h;
  RunResult r = h.ctl({"telemetry", "status", "--json"}, ctl_env(h, {{"DO_NOT_TRACK", "1"},
                                                                     {"DOLLHOUSE_TELEMETRY", "off"},
                                                                     {"CI", "true"},
                                                                     {"GITHUB_ACTIONS", "true"},
                                                                     {"BUILD_BUILDID", "7"}}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "started it")) << r.err;
  json status = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(status.is_object()) << r.out;
  EXPECT_TRUE(status["overriddenBy"].is_null()) << status["overriddenBy"];
  stop_started_daemon(h.socket());
}

// --- hints that work when copied -------------------------------------------------------------

TEST(CtlCli, TheNoStartHintNamesTheDataRootAndSocketAndWorksWhenFollowed) {
  DaemonHarness h;
  const std::string root = h.dir().file("my root");
  const std::string socket = h.dir().file("it's.sock");
  const std::vector<std::string> location = {"--home", root, "--socket", socket};
  const std::string ctl = build_bin("dollhousectl");
  RunResult hint =
      run_process(concat(concat({ctl}, location), {"--no-start", "telemetry", "status"}), h.env());
  ASSERT_EQ(hint.exit_code, 3) << hint.err;
  const std::vector<std::string> offered = backquoted(hint.err);
  ASSERT_EQ(offered.size(), 3u) << hint.err;

  std::vector<std::string> daemon_command = shell_words(offered[0]);
  ASSERT_EQ(daemon_command, concat({"dollhouse-telemetryd"}, location)) << offered[0];
  daemon_command[0] = build_bin("dollhouse-telemetryd");
  ChildProcess daemon(daemon_command, ctl_env(h));
  ASSERT_TRUE(daemon.wait_for_output("listening on", 30s)) << daemon.err();
  RunResult followed =
      run_process(concat(concat({ctl}, location), {"--no-start", "telemetry", "status"}), h.env());
  EXPECT_EQ(followed.exit_code, 0) << followed.err;

  // The dollhousectl alternative repeats the same flags and the command.
  std::vector<std::string> again = shell_words(offered[2]);
  ASSERT_EQ(again, concat(concat({"dollhousectl"}, location), {"telemetry", "status"}))
      << offered[2];
  again[0] = ctl;
  RunResult rerun = run_process(again, h.env());
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_FALSE(contains(rerun.err, "started it")) << "it found the daemon of the hint";

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(30s), 0);
}

TEST(CtlCli, TheNoStartHintNamesADataRootAndSocketGivenByTheEnvironment) {
  DaemonHarness h;
  const std::string root = h.dir().file("env-root");
  const std::string socket = h.dir().file("env.sock");
  RunResult hint =
      run_process({build_bin("dollhousectl"), "--no-start", "telemetry", "show"},
                  h.env({{"DOLLHOUSE_HOME", root}, {"DOLLHOUSE_TELEMETRY_SOCKET", socket}}));
  ASSERT_EQ(hint.exit_code, 3) << hint.err;
  const std::vector<std::string> offered = backquoted(hint.err);
  ASSERT_EQ(offered.size(), 3u) << hint.err;
  EXPECT_EQ(shell_words(offered[0]),
            (std::vector<std::string>{"dollhouse-telemetryd", "--home", root, "--socket", socket}));
  EXPECT_EQ(shell_words(offered[2]),
            (std::vector<std::string>{"dollhousectl", "--home", root, "--socket", socket,
                                      "telemetry", "show"}));
}

TEST(CtlCli, TheNoStartHintForTheDefaultLocationIsThePlainCommand) {
  DaemonHarness h;
  RunResult hint =
      run_process({build_bin("dollhousectl"), "--no-start", "telemetry", "status"}, h.env());
  ASSERT_EQ(hint.exit_code, 3) << hint.err;
  const std::vector<std::string> offered = backquoted(hint.err);
  ASSERT_EQ(offered.size(), 3u) << hint.err;
  EXPECT_EQ(offered[0], "dollhouse-telemetryd");
  EXPECT_EQ(offered[2], "dollhousectl telemetry status");
}

// --- show ------------------------------------------------------------------------------------

// `utc` written in local time at `offset_minutes` east of UTC: 2026-12-01T10:00:00.000+01:00.
std::string with_offset(SystemTime utc, int offset_minutes) {
  std::string text = format_iso8601(utc + std::chrono::minutes(offset_minutes));
  const int m = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char zone[16];
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', m / 60, m % 60);
  text.back() = zone[0];
  return text + (zone + 1);
}

TEST(CtlCli, ShowSinceTakesADateAndTimesWithAnOffset) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  h.enable();
  TestClient c = h.client();
  c.hello();
  c.request({{"op", "track"}, {"event", kCrash}});
  c.request({{"op", "sync"}});
  json entries = h.entries();
  ASSERT_EQ(entries.size(), 1u);
  SystemTime stored;
  ASSERT_TRUE(parse_iso8601(entries[0]["timestamp"].get<std::string>(), stored));

  auto count = [&h](const std::string& since) -> int {
    RunResult r = h.ctl({"telemetry", "show", "--json", "--since", since});
    EXPECT_EQ(r.exit_code, 0) << since << ": " << r.err;
    json j = json::parse(r.out, nullptr, false);
    return j.is_array() ? static_cast<int>(j.size()) : -1;
  };
  const auto day = std::chrono::floor<std::chrono::days>(stored);
  const std::string today = format_iso8601(day).substr(0, 10);
  const std::string tomorrow = format_iso8601(day + std::chrono::days(1)).substr(0, 10);
  EXPECT_EQ(count(today), 1) << today;
  EXPECT_EQ(count(tomorrow), 0) << tomorrow;
  // The same instants with offsets: a second before the event and a second after it.
  for (int offset : {60, -330}) {
    EXPECT_EQ(count(with_offset(stored - 1s, offset)), 1) << with_offset(stored - 1s, offset);
    EXPECT_EQ(count(with_offset(stored + 1s, offset)), 0) << with_offset(stored + 1s, offset);
  }
  RunResult bare = h.ctl({"telemetry", "show", "--since", "2026-12-01T10:00:00"});
  EXPECT_EQ(bare.exit_code, 2) << "a time without a zone is refused";
}

TEST(CtlCli, ShowSaysHowManyOlderEntriesThereAreAndHowToSeeThem) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  h.enable();
  TestClient c = h.client();
  c.hello();
  for (int i = 0; i < 3; ++i) c.request({{"op", "track"}, {"event", kCrash}});
  c.request({{"op", "sync"}});
  ASSERT_EQ(h.entries().size(), 3u);
  RunResult some = h.ctl({"telemetry", "show", "--limit", "2"});
  EXPECT_EQ(some.exit_code, 0) << some.err;
  EXPECT_TRUE(contains(some.out, "Newest first: 2 of 3. Older ones: --limit 3.")) << some.out;
  RunResult all = h.ctl({"telemetry", "show"});
  EXPECT_TRUE(contains(all.out, "Newest first (3).")) << all.out;
}

TEST(CtlCli, AnEmptyLogSaysWhyFromTheConsentState) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  RunResult before = h.ctl({"telemetry", "show"});
  EXPECT_EQ(before.exit_code, 0) << before.err;
  EXPECT_TRUE(contains(before.out, "Nothing is collected before you consent")) << before.out;

  ASSERT_EQ(h.ctl({"telemetry", "enable"}).exit_code, 0);
  RunResult given = h.ctl({"telemetry", "show"});
  EXPECT_TRUE(contains(given.out, "no app has sent anything yet")) << given.out;
  EXPECT_FALSE(contains(given.out, "before you consent")) << given.out;

  ASSERT_EQ(h.ctl({"telemetry", "disable"}).exit_code, 0);
  RunResult withdrawn = h.ctl({"telemetry", "show"});
  EXPECT_TRUE(contains(withdrawn.out, "You withdrew consent")) << withdrawn.out;
}

}  // namespace
}  // namespace dollhouse::testing
