// The database schema, one statement per entry, for each storage engine. Creating it is
// idempotent (IF NOT EXISTS), so every server start applies it.
//
// raw_events      cleaned events, kept until rolled up (at most the raw retention, 24 h)
// batches         batch ids seen, for deduplication (kept 30 days)
// daily_aggregates counters per UTC day, metric and dimension; never an installId
// deletions       when a deletion request was honoured and how many events it removed
#pragma once

#include <vector>

namespace dollhouse::server {

inline const std::vector<const char*>& sqlite_schema() {
  static const std::vector<const char*> kStatements = {
      "CREATE TABLE IF NOT EXISTS raw_events(id INTEGER PRIMARY KEY, install_id TEXT NOT NULL, "
      "event_type TEXT NOT NULL, day TEXT NOT NULL, received_at INTEGER NOT NULL, "
      "body TEXT NOT NULL)",
      "CREATE INDEX IF NOT EXISTS raw_events_install ON raw_events(install_id)",
      "CREATE INDEX IF NOT EXISTS raw_events_received ON raw_events(received_at)",
      "CREATE INDEX IF NOT EXISTS raw_events_day ON raw_events(day)",
      "CREATE TABLE IF NOT EXISTS batches(batch_id TEXT PRIMARY KEY, "
      "received_at INTEGER NOT NULL, accepted INTEGER NOT NULL, rejected INTEGER NOT NULL)",
      "CREATE INDEX IF NOT EXISTS batches_received ON batches(received_at)",
      "CREATE TABLE IF NOT EXISTS daily_aggregates(day TEXT NOT NULL, metric TEXT NOT NULL, "
      "dim TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY(day, metric, dim))",
      "CREATE TABLE IF NOT EXISTS deletions(id INTEGER PRIMARY KEY, "
      "deleted_at INTEGER NOT NULL, events_removed INTEGER NOT NULL)",
  };
  return kStatements;
}

inline const std::vector<const char*>& postgres_schema() {
  static const std::vector<const char*> kStatements = {
      "CREATE TABLE IF NOT EXISTS raw_events(id BIGSERIAL PRIMARY KEY, install_id TEXT NOT NULL, "
      "event_type TEXT NOT NULL, day TEXT NOT NULL, received_at BIGINT NOT NULL, "
      "body TEXT NOT NULL)",
      "CREATE INDEX IF NOT EXISTS raw_events_install ON raw_events(install_id)",
      "CREATE INDEX IF NOT EXISTS raw_events_received ON raw_events(received_at)",
      "CREATE INDEX IF NOT EXISTS raw_events_day ON raw_events(day)",
      "CREATE TABLE IF NOT EXISTS batches(batch_id TEXT PRIMARY KEY, "
      "received_at BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL)",
      "CREATE INDEX IF NOT EXISTS batches_received ON batches(received_at)",
      "CREATE TABLE IF NOT EXISTS daily_aggregates(day TEXT NOT NULL, metric TEXT NOT NULL, "
      "dim TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, PRIMARY KEY(day, metric, dim))",
      "CREATE TABLE IF NOT EXISTS deletions(id BIGSERIAL PRIMARY KEY, "
      "deleted_at BIGINT NOT NULL, events_removed BIGINT NOT NULL)",
  };
  return kStatements;
}

}  // namespace dollhouse::server
