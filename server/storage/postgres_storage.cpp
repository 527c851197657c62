#include "server/storage/postgres_storage.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "server/storage/postgres_pool.hpp"
#include "server/storage/schema.hpp"

namespace dollhouse::server {

namespace {

using pg::Connection;
using pg::PgResult;
using pg::Sql;

// Keys of the advisory locks the server takes (arbitrary, fixed).
constexpr long long kSchemaLock = 7446000;
constexpr long long kRollupLock = 7446001;

// A batch is one statement, so one round trip and one implicit transaction: the batch id is
// claimed (the primary key deduplicates, also between instances racing the same batch) and the
// events are inserted from six arrays only when the claim succeeded. $2 is the batch's
// arrival time, shared by its row and its events.
constexpr Sql kIngest{
    "ingest",
    "WITH claimed AS (INSERT INTO batches(batch_id, received_at, accepted, rejected) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (batch_id) DO NOTHING RETURNING 1), "
    "stored AS (INSERT INTO raw_events(install_id, event_type, day, received_at, body, app, "
    "version, signature) "
    "SELECT $5, e.event_type, e.day, $2, e.body, e.app, e.version, e.signature "
    "FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) "
    "WITH ORDINALITY AS e(event_type, day, body, app, version, signature, n) "
    "WHERE EXISTS (SELECT 1 FROM claimed) ORDER BY e.n RETURNING 1) "
    "SELECT (SELECT count(*) FROM claimed), (SELECT count(*) FROM stored)"};
constexpr Sql kFirstDelivery{"first_delivery",
                             "SELECT accepted, rejected FROM batches WHERE batch_id = $1"};
// The deletion and its record, one statement.
constexpr Sql kDeleteInstallation{
    "delete_installation",
    "WITH removed AS (DELETE FROM raw_events WHERE install_id = $1 RETURNING 1) "
    "INSERT INTO deletions(deleted_at, events_removed) SELECT $2, count(*) FROM removed "
    "RETURNING events_removed"};
// Every counter of a rollup or a request in one statement; the keys of one call are distinct.
constexpr Sql kAddAggregates{
    "add_aggregates",
    "INSERT INTO aggregates(day, app, metric, dim, value) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[]) "
    "ON CONFLICT (day, app, metric, dim) DO UPDATE SET value = aggregates.value + excluded.value"};
constexpr Sql kTryRollupLock{"try_rollup_lock", "SELECT pg_try_advisory_xact_lock($1)"};
constexpr Sql kSelectRollupChunk{
    "rollup_chunk",
    "SELECT id, event_type, day, body FROM raw_events WHERE received_at < $1 "
    "ORDER BY id LIMIT $2"};
constexpr Sql kDeleteRolledUp{"delete_rolled_up",
                              "DELETE FROM raw_events WHERE received_at < $1 AND id <= $2"};
constexpr Sql kPurgeBatches{"purge_batches", "DELETE FROM batches WHERE received_at < $1"};
constexpr Sql kAggregates{
    "aggregates",
    "SELECT day, app, metric, dim, value FROM aggregates WHERE day >= $1 AND day <= $2"};
constexpr Sql kDaysToClose{"days_to_close",
                           "SELECT DISTINCT day FROM raw_events WHERE received_at < $1 "
                           "AND day NOT IN (SELECT day FROM closed_days) ORDER BY day"};
constexpr Sql kCloseDay{"close_day",
                        "INSERT INTO closed_days(day, closed_at) VALUES ($1, $2) "
                        "ON CONFLICT (day) DO NOTHING RETURNING 1"};

// The shared statements of schema.hpp with PostgreSQL's placeholders ($1 for ?1).
const char* postgres_placeholders(const char* sqlite_text) {
  static std::mutex mutex;
  static std::map<const char*, std::string> converted;
  std::lock_guard lock(mutex);
  auto [it, fresh] = converted.try_emplace(sqlite_text);
  if (fresh) {
    for (const char* p = sqlite_text; *p; ++p) it->second.push_back(*p == '?' ? '$' : *p);
  }
  return it->second.c_str();
}
constexpr Sql kRawEvents{
    "raw_events", "SELECT event_type, day, body FROM raw_events WHERE day >= $1 AND day <= $2"};
constexpr Sql kCounts{"counts",
                      "SELECT (SELECT count(*) FROM raw_events), (SELECT count(*) FROM batches), "
                      "(SELECT count(*) FROM deletions)"};
constexpr Sql kPing{"ping", "SELECT 1"};
constexpr Sql kSetStatementTimeout{"set_statement_timeout",
                                   "SELECT set_config('statement_timeout', $1, false)"};
constexpr Sql kSchemaLockSql{"schema_lock", "SELECT pg_advisory_lock($1)"};
constexpr Sql kSchemaUnlockSql{"schema_unlock", "SELECT pg_advisory_unlock($1)"};

std::size_t count_of(PGresult* r, int row, int column) {
  return static_cast<std::size_t>(std::strtoull(PQgetvalue(r, row, column), nullptr, 10));
}

// Session settings of every connection.
Status set_up_session(Connection& conn) {
  // Quiet the NOTICEs "relation already exists" that IF NOT EXISTS produces.
  if (Status st = conn.exec("SET client_min_messages = warning"); !st) return st;
  auto set = conn.run(kSetStatementTimeout, {std::to_string(pg::kStatementTimeout.count()) + "s"});
  return set ? Status::ok() : set.status();
}

// The schema, under an advisory lock so that instances starting together do not collide.
Status create_schema(Connection& conn) {
  if (auto locked = conn.run(kSchemaLockSql, {std::to_string(kSchemaLock)}); !locked) {
    return locked.status();
  }
  Status result = Status::ok();
  for (const char* sql : postgres_schema()) {
    if (result = conn.exec(sql); !result) break;
  }
  auto unlocked = conn.run(kSchemaUnlockSql, {std::to_string(kSchemaLock)});
  if (!result) return result;
  return unlocked ? Status::ok() : unlocked.status();
}

Status add_rows(Connection& conn, const AggregateRows& rows) {
  if (rows.empty()) return Status::ok();
  std::vector<std::string> values;
  values.reserve(rows.size());
  std::vector<std::string_view> days, apps, metrics, dims, numbers;
  for (const auto& [key, value] : rows) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    values.emplace_back(buf);
  }
  std::size_t i = 0;
  for (const auto& [key, value] : rows) {
    days.push_back(key.day);
    apps.push_back(key.app);
    metrics.push_back(key.metric);
    dims.push_back(key.dim);
    numbers.push_back(values[i++]);
  }
  auto r =
      conn.run(kAddAggregates, {pg::text_array(days), pg::text_array(apps), pg::text_array(metrics),
                                pg::text_array(dims), pg::text_array(numbers)});
  return r ? Status::ok() : r.status();
}

Result<DayActivity> read_activity(Connection& conn, const std::string& from_day,
                                  const std::string& to_day) {
  static const Sql kActivity{"activity", postgres_placeholders(kActivitySql)};
  static const Sql kSignatures{"signatures", postgres_placeholders(kSignaturesSql)};
  DayActivity out;
  auto activity = conn.run(kActivity, {from_day, to_day});
  if (!activity) return activity.status();
  PGresult* a = activity->get();
  for (int i = 0; i < PQntuples(a); ++i) {
    out.activity.push_back({PQgetvalue(a, i, 0), PQgetvalue(a, i, 1), PQgetvalue(a, i, 2),
                            std::strtoll(PQgetvalue(a, i, 3), nullptr, 10),
                            std::strtoll(PQgetvalue(a, i, 4), nullptr, 10)});
  }
  auto signatures = conn.run(kSignatures, {from_day, to_day});
  if (!signatures) return signatures.status();
  PGresult* g = signatures->get();
  for (int i = 0; i < PQntuples(g); ++i) {
    out.signatures.push_back({PQgetvalue(g, i, 0), PQgetvalue(g, i, 1), PQgetvalue(g, i, 2),
                              PQgetvalue(g, i, 3), std::strtoll(PQgetvalue(g, i, 4), nullptr, 10),
                              std::strtoll(PQgetvalue(g, i, 5), nullptr, 10)});
  }
  return out;
}

Result<AggregateRows> read_aggregates(Connection& conn, const std::string& from_day,
                                      const std::string& to_day) {
  auto rows = conn.run(kAggregates, {from_day, to_day});
  if (!rows) return rows.status();
  AggregateRows out;
  PGresult* r = rows->get();
  for (int i = 0; i < PQntuples(r); ++i) {
    out[{PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3)}] +=
        std::strtod(PQgetvalue(r, i, 4), nullptr);
  }
  return out;
}

Result<std::vector<StoredEvent>> read_raw_events(Connection& conn, const std::string& from_day,
                                                 const std::string& to_day) {
  auto rows = conn.run(kRawEvents, {from_day, to_day});
  if (!rows) return rows.status();
  std::vector<StoredEvent> out;
  PGresult* r = rows->get();
  for (int i = 0; i < PQntuples(r); ++i) {
    out.push_back({PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)});
  }
  return out;
}

// Runs `work` inside BEGIN … COMMIT (ROLLBACK when it fails).
template <typename T>
Result<T> in_transaction(Connection& conn, const std::function<Result<T>(Connection&)>& work) {
  if (Status st = conn.exec("BEGIN"); !st) return st;
  Result<T> result = work(conn);
  if (!result) {
    (void)conn.exec("ROLLBACK");
    return result;
  }
  if (Status st = conn.exec("COMMIT"); !st) return st;
  return result;
}

class PostgresStorage final : public Storage {
 public:
  PostgresStorage(const std::string& uri, std::size_t pool_size)
      : pool_(uri, pool_size, set_up_session, create_schema) {}

  Result<IngestResult> ingest_batch(const IngestBatch& batch) override {
    std::vector<std::string_view> types, days, bodies, apps, versions, signatures;
    for (auto* column : {&types, &days, &bodies, &apps, &versions, &signatures}) {
      column->reserve(batch.events.size());
    }
    for (const NewEvent& e : batch.events) {
      types.push_back(e.event_type);
      days.push_back(e.day);
      bodies.push_back(e.body);
      apps.push_back(e.app);
      versions.push_back(e.version);
      signatures.push_back(e.signature);
    }
    const std::vector<std::string> params = {batch.batch_id,
                                             std::to_string(to_unix_millis(batch.received_at)),
                                             std::to_string(batch.events.size()),
                                             std::to_string(batch.rejected),
                                             batch.install_id,
                                             pg::text_array(types),
                                             pg::text_array(days),
                                             pg::text_array(bodies),
                                             pg::text_array(apps),
                                             pg::text_array(versions),
                                             pg::text_array(signatures)};
    return pool_.with_connection<IngestResult>([&](Connection& conn) -> Result<IngestResult> {
      auto stored = conn.run(kIngest, params);
      if (!stored) return stored.status();
      if (count_of(stored->get(), 0, 0) == 1) {
        if (count_of(stored->get(), 0, 1) != batch.events.size()) {
          return Status::error("io_error", "database: a batch's events were stored in part");
        }
        return IngestResult{false, batch.events.size(), batch.rejected};
      }
      // Seen before (or stored a moment ago by another instance, whose transaction has
      // committed by now): the first delivery's counts.
      auto seen = conn.run(kFirstDelivery, {batch.batch_id});
      if (!seen) return seen.status();
      if (PQntuples(seen->get()) != 1) {
        return Status::error("busy", "database: batch vanished during deduplication");
      }
      return IngestResult{true, count_of(seen->get(), 0, 0), count_of(seen->get(), 0, 1)};
    });
  }

  Result<std::size_t> delete_installation(const std::string& install_id, SystemTime now) override {
    return pool_.with_connection<std::size_t>([&](Connection& conn) -> Result<std::size_t> {
      auto r = conn.run(kDeleteInstallation, {install_id, std::to_string(to_unix_millis(now))});
      if (!r) return r.status();
      return count_of(r->get(), 0, 0);
    });
  }

  Result<RollupReport> roll_up(SystemTime cutoff, SystemTime batch_cutoff, const RollupFn& rollup,
                               const ActivityFn& close_day) override {
    return pool_.with_connection<RollupReport>([&](Connection& conn) -> Result<RollupReport> {
      RollupReport report;
      const std::string cutoff_ms = std::to_string(to_unix_millis(cutoff));
      auto due = conn.run(kDaysToClose, {cutoff_ms});
      if (!due) return due.status();
      std::vector<std::string> days;
      for (int i = 0; i < PQntuples(due->get()); ++i) days.push_back(PQgetvalue(due->get(), i, 0));
      // One transaction per day, under the rollup lock; the day is claimed first, so an
      // instance that closed it a moment ago makes this one add nothing.
      for (const std::string& day : days) {
        bool locked = false;
        auto closed = in_transaction<bool>(conn, [&](Connection& c) -> Result<bool> {
          auto lock = c.run(kTryRollupLock, {std::to_string(kRollupLock)});
          if (!lock) return lock.status();
          locked = std::string(PQgetvalue(lock->get(), 0, 0)) == "t";
          if (!locked) return false;
          auto activity = read_activity(c, day, day);
          if (!activity) return activity.status();
          auto claimed = c.run(kCloseDay, {day, cutoff_ms});
          if (!claimed) return claimed.status();
          if (PQntuples(claimed->get()) == 0) return false;
          if (Status st = add_rows(c, close_day(*activity)); !st) return st;
          return true;
        });
        if (!closed) return closed.status();
        if (!locked) {
          report.skipped = true;
          return report;
        }
        if (*closed) report.days_closed++;
      }
      // One transaction per chunk, so that ingest (on the pool's other connections) waits at
      // most one chunk's time for a counter row the rollup holds.
      for (;;) {
        bool locked = false;
        auto chunk = in_transaction<std::size_t>(conn, [&](Connection& c) -> Result<std::size_t> {
          auto lock = c.run(kTryRollupLock, {std::to_string(kRollupLock)});
          if (!lock) return lock.status();
          locked = std::string(PQgetvalue(lock->get(), 0, 0)) == "t";
          if (!locked) return std::size_t{0};
          auto rows = c.run(kSelectRollupChunk, {cutoff_ms, std::to_string(kRollupChunk)});
          if (!rows) return rows.status();
          std::vector<StoredEvent> events;
          std::string last_id;
          PGresult* r = rows->get();
          for (int i = 0; i < PQntuples(r); ++i) {
            last_id = PQgetvalue(r, i, 0);
            events.push_back({PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3)});
          }
          if (events.empty()) return std::size_t{0};
          if (Status st = add_rows(c, rollup(events)); !st) return st;
          auto deleted = c.run(kDeleteRolledUp, {cutoff_ms, last_id});
          if (!deleted) return deleted.status();
          return events.size();
        });
        if (!chunk) return chunk.status();
        if (!locked) {
          report.skipped = true;
          return report;
        }
        report.events_rolled_up += *chunk;
        if (*chunk < kRollupChunk) break;
      }
      auto purged = conn.run(kPurgeBatches, {std::to_string(to_unix_millis(batch_cutoff))});
      if (!purged) return purged.status();
      report.batches_purged =
          static_cast<std::size_t>(std::strtoull(PQcmdTuples(purged->get()), nullptr, 10));
      return report;
    });
  }

  Status add_aggregates(const AggregateRows& rows) override {
    auto added = pool_.with_connection<bool>([&](Connection& conn) -> Result<bool> {
      if (Status st = add_rows(conn, rows); !st) return st;
      return true;
    });
    return added ? Status::ok() : added.status();
  }

  Result<AggregateRows> aggregates(const std::string& from_day,
                                   const std::string& to_day) override {
    return pool_.with_connection<AggregateRows>(
        [&](Connection& conn) { return read_aggregates(conn, from_day, to_day); });
  }

  Result<std::vector<StoredEvent>> raw_events(const std::string& from_day,
                                              const std::string& to_day) override {
    return pool_.with_connection<std::vector<StoredEvent>>(
        [&](Connection& conn) { return read_raw_events(conn, from_day, to_day); });
  }

  Result<DayActivity> open_activity(const std::string& from_day,
                                    const std::string& to_day) override {
    return pool_.with_connection<DayActivity>(
        [&](Connection& conn) { return read_activity(conn, from_day, to_day); });
  }

  Result<RangeSnapshot> read_range(const std::string& from_day,
                                   const std::string& to_day) override {
    return pool_.with_connection<RangeSnapshot>([&](Connection& conn) {
      return in_transaction<RangeSnapshot>(conn, [&](Connection& c) -> Result<RangeSnapshot> {
        // One snapshot for the three reads.
        if (Status st = c.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"); !st) {
          return st;
        }
        RangeSnapshot snap;
        auto a = read_aggregates(c, from_day, to_day);
        if (!a) return a.status();
        auto r = read_raw_events(c, from_day, to_day);
        if (!r) return r.status();
        auto o = read_activity(c, from_day, to_day);
        if (!o) return o.status();
        snap.aggregates = std::move(*a);
        snap.raw_events = std::move(*r);
        snap.open_activity = std::move(*o);
        return snap;
      });
    });
  }

  Result<StorageCounts> counts() override {
    return pool_.with_connection<StorageCounts>([&](Connection& conn) -> Result<StorageCounts> {
      auto rows = conn.run(kCounts, {});
      if (!rows) return rows.status();
      StorageCounts c;
      c.raw_events = std::strtoll(PQgetvalue(rows->get(), 0, 0), nullptr, 10);
      c.batches = std::strtoll(PQgetvalue(rows->get(), 0, 1), nullptr, 10);
      c.deletions = std::strtoll(PQgetvalue(rows->get(), 0, 2), nullptr, 10);
      return c;
    });
  }

  Status ping() override {
    auto r = pool_.with_connection<bool>([&](Connection& conn) -> Result<bool> {
      auto one = conn.run(kPing, {});
      if (!one) return one.status();
      return true;
    });
    return r ? Status::ok() : r.status();
  }

  std::string kind() const override { return "postgresql"; }

  // The first connection (and the schema), so that a wrong URI is reported at start.
  Status connect_first() {
    auto lease = pool_.acquire();
    return lease ? Status::ok() : lease.status();
  }

 private:
  pg::Pool pool_;
};

}  // namespace

Result<std::unique_ptr<Storage>> open_postgres_storage(const std::string& uri,
                                                       std::size_t pool_size) {
  auto storage = std::make_unique<PostgresStorage>(uri, pool_size);
  if (Status st = storage->connect_first(); !st) {
    // A database that is not up yet is waited for: the server serves 503 with Retry-After
    // (the daemons retry) and connects as soon as the database answers.
    spdlog::warn("{}; the server starts anyway and connects once the database answers",
                 st.message());
  }
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace dollhouse::server
