// The database schema, one statement per entry, for each storage engine. Creating it is
// idempotent (IF NOT EXISTS), so every server start applies it.
//
// raw_events   cleaned events, kept until rolled up (at most the raw retention, 24 h); app,
//              version and signature repeat fields of the body for distinct counts
// batches      batch ids seen, for deduplication (kept 30 days)
// aggregates   counters per UTC day, app, metric and dimension; never an installId
// closed_days  days whose distinct-installation counts are in the aggregates, final
// deletions    when a deletion request was honoured and how many events it removed
//
// Databases of earlier versions had `daily_aggregates` (no app) and raw_events without the
// three columns; the storage migrates them when it opens (kMigrateLegacy… below), keeping every
// counter under the app "".
#pragma once

#include <vector>

namespace dollhouse::server {

inline const std::vector<const char*>& sqlite_schema() {
  static const std::vector<const char*> kStatements = {
      "CREATE TABLE IF NOT EXISTS raw_events(id INTEGER PRIMARY KEY, install_id TEXT NOT NULL, "
      "event_type TEXT NOT NULL, day TEXT NOT NULL, received_at INTEGER NOT NULL, "
      "body TEXT NOT NULL, app TEXT NOT NULL DEFAULT '', version TEXT NOT NULL DEFAULT '', "
      "signature TEXT NOT NULL DEFAULT '')",
      "CREATE INDEX IF NOT EXISTS raw_events_install ON raw_events(install_id)",
      "CREATE INDEX IF NOT EXISTS raw_events_received ON raw_events(received_at)",
      "CREATE INDEX IF NOT EXISTS raw_events_day ON raw_events(day)",
      "CREATE TABLE IF NOT EXISTS batches(batch_id TEXT PRIMARY KEY, "
      "received_at INTEGER NOT NULL, accepted INTEGER NOT NULL, rejected INTEGER NOT NULL)",
      "CREATE INDEX IF NOT EXISTS batches_received ON batches(received_at)",
      "CREATE TABLE IF NOT EXISTS aggregates(day TEXT NOT NULL, app TEXT NOT NULL, "
      "metric TEXT NOT NULL, dim TEXT NOT NULL, value REAL NOT NULL, "
      "PRIMARY KEY(day, app, metric, dim))",
      "CREATE TABLE IF NOT EXISTS closed_days(day TEXT NOT NULL PRIMARY KEY, "
      "closed_at INTEGER NOT NULL)",
      "CREATE TABLE IF NOT EXISTS deletions(id INTEGER PRIMARY KEY, "
      "deleted_at INTEGER NOT NULL, events_removed INTEGER NOT NULL)",
  };
  return kStatements;
}

inline const std::vector<const char*>& postgres_schema() {
  static const std::vector<const char*> kStatements = {
      "CREATE TABLE IF NOT EXISTS raw_events(id BIGSERIAL PRIMARY KEY, install_id TEXT NOT NULL, "
      "event_type TEXT NOT NULL, day TEXT NOT NULL, received_at BIGINT NOT NULL, "
      "body TEXT NOT NULL, app TEXT NOT NULL DEFAULT '', version TEXT NOT NULL DEFAULT '', "
      "signature TEXT NOT NULL DEFAULT '')",
      // Databases of earlier versions: the three columns, and their counters under the app "".
      "ALTER TABLE raw_events ADD COLUMN IF NOT EXISTS app TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE raw_events ADD COLUMN IF NOT EXISTS version TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE raw_events ADD COLUMN IF NOT EXISTS signature TEXT NOT NULL DEFAULT ''",
      "CREATE INDEX IF NOT EXISTS raw_events_install ON raw_events(install_id)",
      "CREATE INDEX IF NOT EXISTS raw_events_received ON raw_events(received_at)",
      "CREATE INDEX IF NOT EXISTS raw_events_day ON raw_events(day)",
      "CREATE TABLE IF NOT EXISTS batches(batch_id TEXT PRIMARY KEY, "
      "received_at BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL)",
      "CREATE INDEX IF NOT EXISTS batches_received ON batches(received_at)",
      "CREATE TABLE IF NOT EXISTS aggregates(day TEXT NOT NULL, app TEXT NOT NULL, "
      "metric TEXT NOT NULL, dim TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, "
      "PRIMARY KEY(day, app, metric, dim))",
      "CREATE TABLE IF NOT EXISTS closed_days(day TEXT PRIMARY KEY, closed_at BIGINT NOT NULL)",
      "DO $$ BEGIN IF to_regclass('daily_aggregates') IS NOT NULL THEN "
      "INSERT INTO aggregates(day, app, metric, dim, value) "
      "SELECT day, '', metric, dim, value FROM daily_aggregates ON CONFLICT (day, app, metric, "
      "dim) "
      "DO UPDATE SET value = aggregates.value + excluded.value; "
      "DROP TABLE daily_aggregates; END IF; END $$",
      "CREATE TABLE IF NOT EXISTS deletions(id BIGSERIAL PRIMARY KEY, "
      "deleted_at BIGINT NOT NULL, events_removed BIGINT NOT NULL)",
  };
  return kStatements;
}

// SQLite has no ADD COLUMN IF NOT EXISTS: the storage runs these, in one transaction, when
// raw_events lacks the column `signature` or `daily_aggregates` exists (each guarded by its
// own check in sqlite_storage.cpp).
inline constexpr const char* kMigrateLegacyRawEventsSqlite[] = {
    "ALTER TABLE raw_events ADD COLUMN app TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE raw_events ADD COLUMN version TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE raw_events ADD COLUMN signature TEXT NOT NULL DEFAULT ''",
};
inline constexpr const char* kMigrateLegacyAggregatesSqlite[] = {
    "INSERT INTO aggregates(day, app, metric, dim, value) "
    "SELECT day, '', metric, dim, value FROM daily_aggregates WHERE true "
    "ON CONFLICT(day, app, metric, dim) DO UPDATE SET value = value + excluded.value",
    "DROP TABLE daily_aggregates",
};

// The distinct-installation counts of the days in [first, second] that are not closed; the
// same statement for both engines but for the placeholders (written ?1/?2, which PostgreSQL
// spells $1/$2). Per day: per app and version, per app, and for all apps together. Weekly
// summaries are left out: they tell of the week before, not of the day they arrive.
inline constexpr const char* kActivitySql =
    "SELECT day, app, version, COUNT(DISTINCT install_id), "
    "COUNT(DISTINCT CASE WHEN event_type = 'crash' THEN install_id END) FROM raw_events "
    "WHERE day >= ?1 AND day <= ?2 AND event_type <> 'weekly_summary' AND version <> '' "
    "AND day NOT IN (SELECT day FROM closed_days) GROUP BY day, app, version "
    "UNION ALL SELECT day, app, '', COUNT(DISTINCT install_id), "
    "COUNT(DISTINCT CASE WHEN event_type = 'crash' THEN install_id END) FROM raw_events "
    "WHERE day >= ?1 AND day <= ?2 AND event_type <> 'weekly_summary' "
    "AND day NOT IN (SELECT day FROM closed_days) GROUP BY day, app "
    "UNION ALL SELECT day, '*', '', COUNT(DISTINCT install_id), "
    "COUNT(DISTINCT CASE WHEN event_type = 'crash' THEN install_id END) FROM raw_events "
    "WHERE day >= ?1 AND day <= ?2 AND event_type <> 'weekly_summary' "
    "AND day NOT IN (SELECT day FROM closed_days) GROUP BY day";
inline constexpr const char* kSignaturesSql =
    "SELECT day, app, event_type, signature, COUNT(*), COUNT(DISTINCT install_id) "
    "FROM raw_events WHERE day >= ?1 AND day <= ?2 AND signature <> '' "
    "AND day NOT IN (SELECT day FROM closed_days) GROUP BY day, app, event_type, signature";

}  // namespace dollhouse::server
