// Internal to the SQLite event store: the cached prepared statement and a guard that resets
// it, shared by the store's source files. Not part of any public interface.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "daemon/storage/sqlite_event_store.hpp"

namespace dollhouse::daemon {

// A cached prepared statement; every use is followed by reset() (see ResetOnExit). A statement
// whose preparation failed does nothing and fails every step() with the preparation's error
// code, so the caller's ordinary error path reports it; the cache prepares it again next time.
class SqliteEventStore::Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    prepare_rc_ = rc == SQLITE_OK ? SQLITE_ERROR : rc;  // used only when stmt_ is null
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool prepared() const { return stmt_ != nullptr; }
  void bind(int i, std::int64_t v) {
    if (stmt_ != nullptr) sqlite3_bind_int64(stmt_, i, v);
  }
  void bind(int i, const std::string& v) {
    if (stmt_ == nullptr) return;
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  int step() { return stmt_ != nullptr ? sqlite3_step(stmt_) : prepare_rc_; }
  void reset() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t int_col(int i) { return sqlite3_column_int64(stmt_, i); }
  std::string text_col(int i) {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int prepare_rc_ = SQLITE_ERROR;
};

// Resets a statement when the scope ends, whichever way it ends.
template <typename S>
class ResetOnExit {
 public:
  explicit ResetOnExit(S& s) : s_(s) {}
  ~ResetOnExit() { s_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  S& s_;
};

}  // namespace dollhouse::daemon
