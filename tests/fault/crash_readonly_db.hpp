// A SQLite database read from outside the process that writes it, as an operator would after a
// crash: opened read-only (WAL readers never block the writer, and a read-only connection can
// recover a WAL left by a killed process), queried with bound parameters only.
//
// One owner thread.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

namespace dollhouse::testing {

class ReadOnlyDb {
 public:
  // How long a query waits for a lock the writer holds (WAL recovery, a checkpoint) before it
  // fails: generous, so a loaded machine never turns a brief lock into a test failure.
  static constexpr int kBusyTimeoutMs = 30000;

  explicit ReadOnlyDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      error_ = db_ ? sqlite3_errmsg(db_) : "cannot open " + path;
      sqlite3_close(db_);
      db_ = nullptr;
      return;
    }
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  }
  ~ReadOnlyDb() { sqlite3_close(db_); }
  ReadOnlyDb(const ReadOnlyDb&) = delete;
  ReadOnlyDb& operator=(const ReadOnlyDb&) = delete;

  bool ok() const { return db_ != nullptr && error_.empty(); }
  const std::string& error() const { return error_; }

  // Every row of `sql` with `params` bound as text in order; NULL columns read as "". On an
  // error the rows so far are returned and error() says what failed.
  std::vector<std::vector<std::string>> rows(const std::string& sql,
                                             const std::vector<std::string>& params = {}) {
    std::vector<std::vector<std::string>> out;
    if (db_ == nullptr) return out;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      error_ = sqlite3_errmsg(db_);
      return out;
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const unsigned char* text = sqlite3_column_text(stmt, c);
        row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
      }
      out.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return out;
  }

  // The first column of the first row ("" when there is none).
  std::string scalar(const std::string& sql, const std::vector<std::string>& params = {}) {
    auto r = rows(sql, params);
    return r.empty() || r[0].empty() ? std::string() : r[0][0];
  }

  // PRAGMA integrity_check's answer: "ok", or the problems it found, one per line.
  std::string integrity_check() {
    std::string out;
    for (const auto& row : rows("PRAGMA integrity_check")) {
      if (!out.empty()) out += "\n";
      out += row.empty() ? "" : row[0];
    }
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
};

}  // namespace dollhouse::testing
