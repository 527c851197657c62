/* Dollhouse Telemetry client library: C ABI over dollhouse::telemetry::Client.
 *
 * Same guarantees as the C++ API: no call blocks on I/O (except dh_telemetry_flush, bounded by
 * its timeout), none aborts the process, all are safe from any thread. Strings are UTF-8 and
 * copied before the call returns. Every function accepts NULL for the client and then does
 * nothing. */
#ifndef DOLLHOUSE_TELEMETRY_H
#define DOLLHOUSE_TELEMETRY_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dh_telemetry_client dh_telemetry_client;

/* Returns NULL only when app or app_version is NULL or memory is exhausted. socket_path may be
 * NULL (resolved like the daemon does). */
dh_telemetry_client* dh_telemetry_open(const char* app, const char* app_version,
                                       const char* socket_path);

/* An event object as JSON text. Returns 0 when queued, -1 when dropped. */
int dh_telemetry_track_json(dh_telemetry_client* client, const char* event_json);

/* A usage increment for the weekly summary. Returns 0 when queued, -1 when dropped. */
int dh_telemetry_usage_counter(dh_telemetry_client* client, const char* name, long long increment);
int dh_telemetry_usage_timing(dh_telemetry_client* client, const char* name, double milliseconds);

/* Waits up to timeout_ms for the daemon to confirm everything queued so far is durable.
 * Returns 0 when confirmed, -1 otherwise. */
int dh_telemetry_flush(dh_telemetry_client* client, int timeout_ms);

/* 1 when collection is possible, 0 when a kill switch makes the client a no-op. */
int dh_telemetry_enabled(const dh_telemetry_client* client);

/* Hands queued events over (bounded wait) and frees the client. */
void dh_telemetry_close(dh_telemetry_client* client);

#ifdef __cplusplus
}
#endif

#endif /* DOLLHOUSE_TELEMETRY_H */
