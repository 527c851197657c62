#include "tests/integration/server_pg_cluster.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "tests/support/child_process.hpp"

namespace dollhouse::testing {

namespace {

std::string find_bin_dir() {
  for (const char* version : {"17", "16", "15", "14", "13"}) {
    std::string dir = std::string("/usr/lib/postgresql/") + version + "/bin";
    if (::access((dir + "/initdb").c_str(), X_OK) == 0 &&
        ::access((dir + "/pg_ctl").c_str(), X_OK) == 0) {
      return dir;
    }
  }
  return "";
}

std::string runuser_path() {
  return ::access("/usr/sbin/runuser", X_OK) == 0 ? "/usr/sbin/runuser" : "/sbin/runuser";
}

}  // namespace

PostgresCluster& PostgresCluster::instance() {
  static PostgresCluster cluster(Durability::kTesting);
  return cluster;
}

PostgresCluster::PostgresCluster(Durability durability) : durability_(durability) {
  bin_ = find_bin_dir();
  if (bin_.empty()) {
    reason_ =
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
        "(install Debian's postgresql package)";
    return;
  }
  std::string pattern = "/tmp/dh-pg-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    reason_ = "mkdtemp failed";
    return;
  }
  dir_ = pattern;
  uid_t uid = ::geteuid();
  if (uid == 0) {
    // initdb refuses to run as root: hand the directory to an unprivileged account.
    for (const char* name : {"postgres", "nobody"}) {
      if (const passwd* pw = ::getpwnam(name)) {
        run_as_ = name;
        if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) run_as_.clear();
        break;
      }
    }
    if (run_as_.empty()) {
      reason_ = "running as root and no postgres or nobody account to run PostgreSQL as";
      return;
    }
  }
  // initdb takes seconds and ctest runs every test case in its own process, so one initialised
  // data directory is kept in the build tree as a template (made once, under a lock) and each
  // cluster starts from a copy of it.
  const std::string template_dir = build_bin("") + "../test-pg-template";
  {
    const int lock = ::open((template_dir + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
      reason_ = "cannot lock " + template_dir + ".lock";
      if (lock >= 0) ::close(lock);
      return;
    }
    if (::access((template_dir + "/PG_VERSION").c_str(), F_OK) != 0) {
      RunResult init =
          run_as_owner({bin_ + "/initdb", "-D", dir_ + "/template", "-A", "trust", "-U", "postgres",
                        "-E", "UTF8", "--no-sync", "--no-instructions", "--wal-segsize=1"});
      std::error_code ignored;
      std::filesystem::remove_all(template_dir, ignored);
      RunResult keep =
          run_process({"/bin/cp", "-a", dir_ + "/template", template_dir}, base_env(dir_));
      std::filesystem::remove_all(dir_ + "/template", ignored);
      if (init.exit_code != 0 || keep.exit_code != 0) {
        reason_ = "initdb failed: " + init.err + keep.err;
        ::close(lock);
        return;
      }
    }
    RunResult copy = run_process({"/bin/cp", "-a", template_dir, dir_ + "/data"}, base_env(dir_));
    ::close(lock);
    if (copy.exit_code != 0) {
      reason_ = "cannot copy the PostgreSQL template: " + copy.err;
      return;
    }
  }
  if (!start()) {
    reason_ = "pg_ctl start failed: " + last_error_;
    return;
  }
  uri_ = "postgresql:///postgres?host=" + dir_ + "&user=postgres";
}

RunResult PostgresCluster::run_as_owner(std::vector<std::string> argv) const {
  if (!run_as_.empty()) argv.insert(argv.begin(), {runuser_path(), "-u", run_as_, "--"});
  return run_process(argv, base_env(dir_), "", std::chrono::seconds(60));
}

bool PostgresCluster::start() {
  const std::string durability = durability_ == Durability::kTesting
                                     ? " -c fsync=off -c full_page_writes=off"
                                     : " -c fsync=on -c full_page_writes=on";
  RunResult started = run_as_owner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-l",
                                    dir_ + "/server.log", "-w", "-t", "30", "-o",
                                    "-k " + dir_ + " -c listen_addresses= -c max_connections=200" +
                                        " -c synchronous_commit=off" + durability,
                                    "start"});
  last_error_ = started.err + started.out;
  return started.exit_code == 0;
}

bool PostgresCluster::stop() {
  RunResult stopped =
      run_as_owner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"});
  last_error_ = stopped.err + stopped.out;
  return stopped.exit_code == 0;
}

bool PostgresCluster::truncate_server_tables() const {
  RunResult r = run_process({"/usr/bin/psql", "-q", "-v", "ON_ERROR_STOP=1", uri_, "-c",
                             "TRUNCATE raw_events, batches, aggregates, closed_days, deletions"},
                            base_env(dir_));
  return r.exit_code == 0;
}

PostgresCluster::~PostgresCluster() {
  if (!uri_.empty()) {
    (void)run_as_owner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"});
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

}  // namespace dollhouse::testing
