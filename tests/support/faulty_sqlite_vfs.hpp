// A SQLite VFS that passes everything to the system's own VFS, except that a test can make it
// refuse writes with SQLITE_FULL, as a full disk would: at once and until told otherwise, or
// only the Nth write from now. Installed as the process's default VFS, so the code under test
// opens its database as it always does.
//
// Thread-safe: the storage thread writes while the test flips the switch.
#pragma once

#include <cstdint>

namespace dollhouse::testing {

class FaultySqliteVfs {
 public:
  // Registers the VFS as the default (once per process) and returns it, with no fault armed.
  static FaultySqliteVfs& install();

  // Every write fails until fail_writes(false).
  void fail_writes(bool on);
  // Only the write `n` writes from now fails (1: the next one); later writes succeed.
  void fail_nth_write(std::int64_t n);
  // Writes refused so far.
  std::int64_t refused() const;

 private:
  FaultySqliteVfs() = default;
};

}  // namespace dollhouse::testing
