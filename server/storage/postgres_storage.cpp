#include "server/storage/postgres_storage.hpp"

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include "server/storage/schema.hpp"

namespace dollhouse::server {

namespace {

// Keys of the advisory locks the server takes (arbitrary, fixed).
constexpr long long kSchemaLock = 7446000;
constexpr long long kRollupLock = 7446001;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresStorage final : public Storage {
 public:
  explicit PostgresStorage(PGconn* conn) : conn_(conn) {}
  ~PostgresStorage() override { PQfinish(conn_); }

  Status init() {
    std::lock_guard lock(mutex_);
    // Quiet the NOTICEs "relation already exists" that IF NOT EXISTS produces.
    if (Status st = command("SET client_min_messages = warning", {}); !st) return st;
    if (Status st = command("SELECT pg_advisory_lock($1)", {std::to_string(kSchemaLock)}); !st) {
      return st;
    }
    Status result = Status::ok();
    for (const char* sql : postgres_schema()) {
      if (result = command(sql, {}); !result) break;
    }
    Status unlock = command("SELECT pg_advisory_unlock($1)", {std::to_string(kSchemaLock)});
    return result ? unlock : result;
  }

  Result<IngestResult> ingest_batch(const IngestBatch& batch) override {
    std::lock_guard lock(mutex_);
    if (Status st = begin(); !st) return st;
    Result<IngestResult> result = ingest_locked(batch);
    if (Status st = finish(result.is_ok()); !st) return st;
    return result;
  }

  Result<std::size_t> delete_installation(const std::string& install_id, SystemTime now) override {
    std::lock_guard lock(mutex_);
    if (Status st = begin(); !st) return st;
    auto del = query("DELETE FROM raw_events WHERE install_id = $1", {install_id});
    std::size_t removed = 0;
    bool ok = del.is_ok();
    if (ok) {
      removed = static_cast<std::size_t>(std::strtoull(PQcmdTuples(del->get()), nullptr, 10));
      ok = command("INSERT INTO deletions(deleted_at, events_removed) VALUES($1, $2)",
                   {std::to_string(to_unix_millis(now)), std::to_string(removed)})
               .is_ok();
    }
    if (Status st = finish(ok); !st) return st;
    if (!ok)
      return del.is_ok() ? Status::error("io_error", "database: could not record deletion")
                         : del.status();
    return removed;
  }

  Result<RollupReport> roll_up(SystemTime cutoff, SystemTime batch_cutoff,
                               const RollupFn& rollup) override {
    std::lock_guard lock(mutex_);
    RollupReport report;
    const std::string cutoff_ms = std::to_string(to_unix_millis(cutoff));
    for (;;) {
      if (Status st = begin(); !st) return st;
      auto locked = query("SELECT pg_try_advisory_xact_lock($1)", {std::to_string(kRollupLock)});
      if (!locked || std::string(PQgetvalue(locked->get(), 0, 0)) != "t") {
        (void)finish(false);
        if (!locked) return locked.status();
        report.skipped = true;
        return report;
      }
      auto rows = query(
          "SELECT id, event_type, day, body FROM raw_events WHERE received_at < $1 "
          "ORDER BY id LIMIT $2",
          {cutoff_ms, std::to_string(kRollupChunk)});
      if (!rows) {
        (void)finish(false);
        return rows.status();
      }
      std::vector<StoredEvent> events;
      std::string last_id;
      PGresult* r = rows->get();
      for (int i = 0; i < PQntuples(r); ++i) {
        last_id = PQgetvalue(r, i, 0);
        events.push_back({PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3)});
      }
      bool ok = true;
      if (!events.empty()) {
        ok = add_locked(rollup(events)).is_ok() &&
             command("DELETE FROM raw_events WHERE received_at < $1 AND id <= $2",
                     {cutoff_ms, last_id})
                 .is_ok();
      }
      if (Status st = finish(ok); !st) return st;
      if (!ok) return Status::error("io_error", "database: could not roll up raw events");
      report.events_rolled_up += events.size();
      if (events.size() < kRollupChunk) break;
    }
    auto purged = query("DELETE FROM batches WHERE received_at < $1",
                        {std::to_string(to_unix_millis(batch_cutoff))});
    if (!purged) return purged.status();
    report.batches_purged =
        static_cast<std::size_t>(std::strtoull(PQcmdTuples(purged->get()), nullptr, 10));
    return report;
  }

  Status add_aggregates(const AggregateRows& rows) override {
    std::lock_guard lock(mutex_);
    if (Status st = begin(); !st) return st;
    Status st = add_locked(rows);
    if (Status fin = finish(st.is_ok()); !fin) return fin;
    return st;
  }

  Result<AggregateRows> aggregates(const std::string& from_day,
                                   const std::string& to_day) override {
    std::lock_guard lock(mutex_);
    auto rows =
        query("SELECT day, metric, dim, value FROM daily_aggregates WHERE day >= $1 AND day <= $2",
              {from_day, to_day});
    if (!rows) return rows.status();
    AggregateRows out;
    PGresult* r = rows->get();
    for (int i = 0; i < PQntuples(r); ++i) {
      out[{PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)}] +=
          std::strtod(PQgetvalue(r, i, 3), nullptr);
    }
    return out;
  }

  Result<std::vector<StoredEvent>> raw_events(const std::string& from_day,
                                              const std::string& to_day) override {
    std::lock_guard lock(mutex_);
    auto rows = query("SELECT event_type, day, body FROM raw_events WHERE day >= $1 AND day <= $2",
                      {from_day, to_day});
    if (!rows) return rows.status();
    std::vector<StoredEvent> out;
    PGresult* r = rows->get();
    for (int i = 0; i < PQntuples(r); ++i) {
      out.push_back({PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)});
    }
    return out;
  }

  Result<StorageCounts> counts() override {
    std::lock_guard lock(mutex_);
    auto rows = query(
        "SELECT (SELECT COUNT(*) FROM raw_events), (SELECT COUNT(*) FROM batches), "
        "(SELECT COUNT(*) FROM deletions)",
        {});
    if (!rows) return rows.status();
    StorageCounts c;
    c.raw_events = std::strtoll(PQgetvalue(rows->get(), 0, 0), nullptr, 10);
    c.batches = std::strtoll(PQgetvalue(rows->get(), 0, 1), nullptr, 10);
    c.deletions = std::strtoll(PQgetvalue(rows->get(), 0, 2), nullptr, 10);
    return c;
  }

  Status ping() override {
    std::lock_guard lock(mutex_);
    return command("SELECT 1", {});
  }

  std::string kind() const override { return "postgresql"; }

 private:
  Result<IngestResult> ingest_locked(const IngestBatch& batch) {
    const std::string received = std::to_string(to_unix_millis(batch.received_at));
    auto ins = query(
        "INSERT INTO batches(batch_id, received_at, accepted, rejected) VALUES($1,$2,$3,$4) "
        "ON CONFLICT (batch_id) DO NOTHING",
        {batch.batch_id, received, std::to_string(batch.events.size()),
         std::to_string(batch.rejected)});
    if (!ins) return ins.status();
    if (std::string(PQcmdTuples(ins->get())) == "0") {
      auto seen =
          query("SELECT accepted, rejected FROM batches WHERE batch_id = $1", {batch.batch_id});
      if (!seen) return seen.status();
      if (PQntuples(seen->get()) != 1) {
        return Status::error("io_error", "database: batch vanished during deduplication");
      }
      return IngestResult{
          true, static_cast<std::size_t>(std::strtoull(PQgetvalue(seen->get(), 0, 0), nullptr, 10)),
          static_cast<std::size_t>(std::strtoull(PQgetvalue(seen->get(), 0, 1), nullptr, 10))};
    }
    for (const NewEvent& e : batch.events) {
      if (Status st =
              command("INSERT INTO raw_events(install_id, event_type, day, received_at, body) "
                      "VALUES($1,$2,$3,$4,$5)",
                      {batch.install_id, e.event_type, e.day, received, e.body});
          !st) {
        return st;
      }
    }
    return IngestResult{false, batch.events.size(), batch.rejected};
  }

  Status add_locked(const AggregateRows& rows) {
    for (const auto& [key, value] : rows) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", value);
      if (Status st =
              command("INSERT INTO daily_aggregates(day, metric, dim, value) VALUES($1,$2,$3,$4) "
                      "ON CONFLICT (day, metric, dim) DO UPDATE SET "
                      "value = daily_aggregates.value + excluded.value",
                      {key.day, key.metric, key.dim, buf});
          !st) {
        return st;
      }
    }
    return Status::ok();
  }

  Status begin() {
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Status::error("unavailable",
                           std::string("database: not connected: ") + PQerrorMessage(conn_));
    }
    return command("BEGIN", {});
  }

  Status finish(bool ok) { return command(ok ? "COMMIT" : "ROLLBACK", {}); }

  Status command(const char* sql, const std::vector<std::string>& params) {
    auto r = query(sql, params);
    return r ? Status::ok() : r.status();
  }

  // Runs one statement with text parameters bound as $1, $2, … (never pasted into the SQL).
  Result<PgResult> query(const char* sql, const std::vector<std::string>& params) {
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::string& p : params) values.push_back(p.c_str());
    PgResult r(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                            nullptr, nullptr, 0));
    ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    std::string message = PQerrorMessage(conn_);
    const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    std::string code = "io_error";
    if (PQstatus(conn_) != CONNECTION_OK) code = "unavailable";
    // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available: retry later.
    if (state && (std::string(state) == "40001" || std::string(state) == "40P01" ||
                  std::string(state) == "55P03")) {
      code = "busy";
    }
    return Status::error(code, "database: " + message);
  }

  std::mutex mutex_;
  PGconn* conn_;
};

}  // namespace

Result<std::unique_ptr<Storage>> open_postgres_storage(const std::string& uri) {
  PGconn* conn = PQconnectdb(uri.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string message = conn ? PQerrorMessage(conn) : "out of memory";
    PQfinish(conn);
    return Status::error("unavailable", "cannot connect to PostgreSQL: " + message);
  }
  auto storage = std::make_unique<PostgresStorage>(conn);
  if (Status st = storage->init(); !st) return st;
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace dollhouse::server
