// Who may talk to the real daemon: only its own user. Another uid is kept out by the socket's
// and its directory's permissions, and, where a user loosened those, by the daemon's own peer
// check (SO_PEERCRED), which closes the connection without a word and counts it. The daemon's
// directories are the user's alone, it refuses to start in directories others could tamper
// with, and it never listens on an abstract socket (which has no file permissions at all).
//
// The mode checks of prepare_socket_directory and prepare_private_directory are unit-tested in
// ipc_tests; daemon_lifecycle_test starts the daemon in 0777, 0775, 01777 and foreign
// directories. This adds, end to end, the cases those leave out.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/fault/fault_run.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/wait.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The uid and gid of "nobody": another user that exists on every Linux system.
constexpr uid_t kOtherUid = 65534;
constexpr gid_t kOtherGid = 65534;
// Connection attempts made as the other user in each case.
const int kAttempts = fault_rounds(5, 50);
// How long the other user's client waits for the daemon to answer or close.
constexpr int kPeerWaitMs = 10'000;

// What became of a connection attempt made as the other user.
enum class Attempt : int {
  kRefusedAtConnect = 10,    // the file system said no (EACCES): the daemon never saw it
  kClosedWithoutReply = 11,  // connected, then closed by the daemon with no byte sent back
  kGotReply = 12,            // the daemon answered another user
  kLeftOpen = 13,            // connected and neither answered nor closed in time
  kCannotBecomeOther = 14,   // setgid/setuid failed
  kOtherError = 15,          // socket() or connect() failed for another reason
};

const char* attempt_name(Attempt a) {
  switch (a) {
    case Attempt::kRefusedAtConnect:
      return "refused at connect";
    case Attempt::kClosedWithoutReply:
      return "closed without reply";
    case Attempt::kGotReply:
      return "answered";
    case Attempt::kLeftOpen:
      return "left open";
    case Attempt::kCannotBecomeOther:
      return "cannot change uid";
    case Attempt::kOtherError:
      return "other error";
  }
  return "?";
}

// Forks a child that becomes kOtherUid, connects to `socket_path`, sends a status request and
// reports what happened. The child uses only async-signal-safe calls: this process has threads.
Attempt connect_as_other_user(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(),
              std::min(socket_path.size() + 1, sizeof addr.sun_path - 1));
  static const char kRequest[] = "{\"v\":1,\"op\":\"status\",\"id\":1}\n";
  pid_t pid = ::fork();
  if (pid < 0) return Attempt::kOtherError;
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kOtherGid) != 0 || ::setuid(kOtherUid) != 0 ||
        ::geteuid() != kOtherUid) {
      ::_exit(static_cast<int>(Attempt::kCannotBecomeOther));
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) ::_exit(static_cast<int>(Attempt::kOtherError));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::_exit(static_cast<int>(errno == EACCES || errno == EPERM ? Attempt::kRefusedAtConnect
                                                                 : Attempt::kOtherError));
    }
    // The daemon may close before or after this write; either way no reply may come.
    (void)::send(fd, kRequest, sizeof kRequest - 1, MSG_NOSIGNAL);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kPeerWaitMs) <= 0) ::_exit(static_cast<int>(Attempt::kLeftOpen));
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, 0);
    ::_exit(static_cast<int>(n > 0 ? Attempt::kGotReply : Attempt::kClosedWithoutReply));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? static_cast<Attempt>(WEXITSTATUS(status)) : Attempt::kOtherError;
}

std::string outcomes_text(const std::map<Attempt, int>& outcomes) {
  std::string text;
  for (const auto& [a, n] : outcomes) {
    text += (text.empty() ? "" : ", ") + std::string(attempt_name(a)) + " " + std::to_string(n);
  }
  return text;
}

std::int64_t rejected_peers(const DaemonHarness& h) {
  json s = h.status();
  return s["counters"].value("connections.rejected_peer", std::int64_t{0});
}

struct PathFacts {
  bool exists = false;
  bool is_dir = false;
  bool is_link = false;
  uid_t uid = 0;
  int mode = -1;
};

PathFacts facts(const std::string& path) {
  struct stat st {};
  PathFacts f;
  if (::lstat(path.c_str(), &st) != 0) return f;
  f.exists = true;
  f.is_dir = S_ISDIR(st.st_mode);
  f.is_link = S_ISLNK(st.st_mode);
  f.uid = st.st_uid;
  f.mode = static_cast<int>(st.st_mode & 07777);
  return f;
}

// `path` created for the test with exactly `mode`, whatever the umask.
void make_dir(const std::string& path, mode_t mode) {
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

bool running_as_root() {
  return ::geteuid() == 0;
}

TEST(Access, AnotherUserCannotReachTheSocketThroughItsUserOnlyDirectory) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to act as another user";
  DaemonHarness h;
  ASSERT_TRUE(h.start()) << h.process()->err();
  std::map<Attempt, int> outcomes;
  for (int i = 0; i < kAttempts; ++i) ++outcomes[connect_as_other_user(h.socket())];
  EXPECT_EQ(outcomes[Attempt::kRefusedAtConnect], kAttempts) << outcomes_text(outcomes);
  EXPECT_EQ(rejected_peers(h), 0) << "the file system stopped them before the daemon saw them";
  EXPECT_TRUE(h.status().value("ok", false)) << "its own user is still served";
  print_figures("access_test other uid, default permissions",
                "refused " + std::to_string(outcomes[Attempt::kRefusedAtConnect]) + "/" +
                    std::to_string(kAttempts) + " (" + outcomes_text(outcomes) + ")");
}

TEST(Access, ThePeerCheckClosesAnotherUsersConnectionWhenPermissionsWereLoosened) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to act as another user";
  DaemonHarness h;
  // A user who opened the way: the test's directory and the socket's own directory can be
  // passed through by anyone (0711, which the daemon accepts: no one else can write there), and
  // after the start the socket itself is made 0666. Only the peer check is left.
  ASSERT_EQ(::chmod(h.dir().path().c_str(), 0711), 0);
  ASSERT_NO_FATAL_FAILURE(make_dir(h.dir().file("run"), 0711));
  ASSERT_TRUE(h.start()) << h.process()->err();
  ASSERT_EQ(::chmod(h.socket().c_str(), 0666), 0);
  ASSERT_EQ(rejected_peers(h), 0);

  std::map<Attempt, int> outcomes;
  for (int i = 0; i < kAttempts; ++i) ++outcomes[connect_as_other_user(h.socket())];
  EXPECT_EQ(outcomes[Attempt::kClosedWithoutReply], kAttempts) << outcomes_text(outcomes);
  // Counted by the daemon (a round trip behind each close, so wait for the last ones).
  std::int64_t counted = -1;
  EXPECT_TRUE(wait_until(
      [&] {
        counted = rejected_peers(h);
        return counted == kAttempts;
      },
      30s))
      << "connections.rejected_peer " << counted;
  EXPECT_TRUE(h.status().value("ok", false)) << "its own user is still served";
  EXPECT_NE(h.process()->err().find("closed a connection from another user"), std::string::npos);
  print_figures("access_test other uid, loosened permissions",
                "refused by peer check " + std::to_string(outcomes[Attempt::kClosedWithoutReply]) +
                    "/" + std::to_string(kAttempts) + ", counted " + std::to_string(counted) +
                    " (" + outcomes_text(outcomes) + ")");
}

TEST(Access, TheDaemonsDirectoriesAndSocketBelongToTheUserAlone) {
  DaemonHarness h;
  ASSERT_TRUE(h.start()) << h.process()->err();
  const uid_t me = ::geteuid();
  for (const std::string& dir : {h.root(), h.dir().file("run"), h.root() + "/logs"}) {
    PathFacts f = facts(dir);
    EXPECT_TRUE(f.is_dir) << dir;
    EXPECT_EQ(f.uid, me) << dir;
    EXPECT_EQ(f.mode, 0700) << dir;
  }
  PathFacts sock = facts(h.socket());
  EXPECT_EQ(sock.uid, me);
  EXPECT_EQ(sock.mode, 0600);
  ASSERT_TRUE(h.enable().value("ok", false));  // telemetry.json exists once there is an answer
  for (std::string file : {"telemetry.db", "telemetry.json", "telemetryd.lock"}) {
    PathFacts f = facts(h.root() + "/" + file);
    EXPECT_TRUE(f.exists) << file;
    EXPECT_EQ(f.uid, me) << file;
    EXPECT_EQ(f.mode & 0077, 0) << file;
  }
}

// One way a directory can be unsafe: how to prepare it, and what the daemon must say.
struct UnsafeCase {
  std::string name;
  bool needs_root;
  // Prepares the case in `h`'s directory; returns the path the daemon must refuse.
  std::function<std::string(const DaemonHarness&)> prepare;
  std::string message;  // part of the refusal, after the path
};

std::vector<UnsafeCase> unsafe_cases() {
  return {
      {"socket directory writable by its group", false,
       [](const DaemonHarness& h) {
         make_dir(h.dir().file("run"), 0770);
         return h.dir().file("run");
       },
       " is writable by other users (mode 0770)"},
      {"socket directory of another user, not sticky", true,
       [](const DaemonHarness& h) {
         make_dir(h.dir().file("run"), 0755);
         EXPECT_EQ(::chown(h.dir().file("run").c_str(), kOtherUid, kOtherGid), 0);
         return h.dir().file("run");
       },
       " belongs to another user"},
      {"socket directory is a symlink", false,
       [](const DaemonHarness& h) {
         make_dir(h.dir().file("elsewhere"), 0700);
         EXPECT_EQ(::symlink(h.dir().file("elsewhere").c_str(), h.dir().file("run").c_str()), 0);
         return h.dir().file("run");
       },
       " is not a directory (a symlink or a file)"},
      {"data root writable by others only", false,
       [](const DaemonHarness& h) {
         make_dir(h.root(), 0707);
         return h.root();
       },
       " is writable by other users (mode 0707)"},
      {"data root of another user, user-only mode", true,
       [](const DaemonHarness& h) {
         make_dir(h.root(), 0700);
         EXPECT_EQ(::chown(h.root().c_str(), kOtherUid, kOtherGid), 0);
         return h.root();
       },
       " belongs to another user"},
      {"data root is a symlink", false,
       [](const DaemonHarness& h) {
         make_dir(h.dir().file("elsewhere"), 0700);
         EXPECT_EQ(::symlink(h.dir().file("elsewhere").c_str(), h.root().c_str()), 0);
         return h.root();
       },
       " is not a directory (a symlink or a file)"},
      {"logs directory writable by others", false,
       [](const DaemonHarness& h) {
         make_dir(h.root(), 0700);
         make_dir(h.root() + "/logs", 0777);
         return h.root() + "/logs";
       },
       " is writable by other users (mode 0777)"},
  };
}

TEST(Access, UnsafeDirectoriesKeepTheDaemonFromStartingAndSayWhy) {
  int cases = 0, refused = 0;
  for (const UnsafeCase& c : unsafe_cases()) {
    if (c.needs_root && !running_as_root()) continue;
    SCOPED_TRACE(c.name);
    DaemonHarness h;
    const std::string path = c.prepare(h);
    const PathFacts before = facts(path);
    ++cases;
    EXPECT_FALSE(h.start());
    const auto code = h.process()->wait(30s);
    const std::string err = h.process()->err();
    EXPECT_EQ(code, 1) << err;
    EXPECT_NE(err.find(path + c.message), std::string::npos) << err;
    const PathFacts after = facts(path);
    EXPECT_EQ(after.mode, before.mode) << "left as it was";
    EXPECT_EQ(after.uid, before.uid);
    EXPECT_FALSE(facts(h.socket()).exists) << "nothing listens";
    if (code == 1 && err.find(path + c.message) != std::string::npos) ++refused;
  }
  print_figures("access_test unsafe directories", "cases=" + std::to_string(cases) + " refused " +
                                                      std::to_string(refused) + "/" +
                                                      std::to_string(cases));
}

// One line of /proc/net/unix: a socket's inode and its path ("@..." when abstract).
struct UnixSocketEntry {
  std::string inode;
  std::string path;
};

std::vector<UnixSocketEntry> unix_sockets() {
  std::ifstream in("/proc/net/unix");
  std::string line;
  std::getline(in, line);  // the header
  std::vector<UnixSocketEntry> entries;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string num, refs, protocol, flags, type, state;
    UnixSocketEntry e;
    if (!(fields >> num >> refs >> protocol >> flags >> type >> state >> e.inode)) continue;
    fields >> e.path;
    entries.push_back(e);
  }
  return entries;
}

// The inodes of the sockets process `pid` holds (its /proc/<pid>/fd links "socket:[N]").
std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code ec;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code link_ec;
    const std::string target = std::filesystem::read_symlink(entry.path(), link_ec).string();
    if (!link_ec && target.rfind("socket:[", 0) == 0) {
      inodes.insert(target.substr(8, target.size() - 9));
    }
  }
  return inodes;
}

TEST(Access, TheDaemonListensOnItsSocketFileAndOnNoAbstractSocket) {
  std::set<std::string> abstract_before;
  for (const auto& e : unix_sockets()) {
    if (e.path.rfind('@', 0) == 0) abstract_before.insert(e.inode);
  }
  DaemonHarness h;
  ASSERT_TRUE(h.start()) << h.process()->err();
  // A client connected meanwhile, so that accepted sockets are looked at too.
  TestClient client = h.client();
  ASSERT_TRUE(client.hello().value("ok", false));

  const std::set<std::string> daemon_inodes = socket_inodes(h.process()->pid());
  ASSERT_FALSE(daemon_inodes.empty());
  int listed = 0, abstract = 0, new_abstract = 0;
  bool listens_on_path = false;
  for (const auto& e : unix_sockets()) {
    const bool abstract_entry = e.path.rfind('@', 0) == 0;
    if (abstract_entry && abstract_before.count(e.inode) == 0) ++new_abstract;
    if (daemon_inodes.count(e.inode) == 0) continue;
    ++listed;
    if (abstract_entry) {
      ++abstract;
      ADD_FAILURE() << "the daemon holds the abstract socket " << e.path;
    }
    if (e.path == h.socket()) listens_on_path = true;
  }
  EXPECT_GE(listed, 2) << "the listening socket and the accepted connection";
  EXPECT_EQ(abstract, 0);
  EXPECT_TRUE(listens_on_path) << "no entry of the daemon's has the path " << h.socket();
  print_figures(
      "access_test abstract sockets",
      "daemon unix sockets=" + std::to_string(listed) + " abstract=" + std::to_string(abstract) +
          " (new abstract entries on the machine meanwhile: " + std::to_string(new_abstract) +
          ") listening on " + h.socket());
}

}  // namespace
}  // namespace dollhouse::testing
