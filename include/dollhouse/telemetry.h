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

/* Options beyond app and version, for dh_telemetry_open_with. Setters copy their strings and
 * return 0, or -1 for NULL options or a NULL required argument. */
typedef struct dh_telemetry_options dh_telemetry_options;

/* NULL when app or app_version is NULL or memory is exhausted. */
dh_telemetry_options* dh_telemetry_options_new(const char* app, const char* app_version);
void dh_telemetry_options_free(dh_telemetry_options* options);
int dh_telemetry_options_set_socket(dh_telemetry_options* options, const char* socket_path);
/* Where crash records go (<root>/crashes); default as the daemon resolves it. */
int dh_telemetry_options_set_data_root(dh_telemetry_options* options, const char* data_root);
/* claude-desktop|claude-code|gemini|other|unknown */
int dh_telemetry_options_set_mcp_client(dh_telemetry_options* options, const char* mcp_client);
/* The first call makes the client read only the variables set this way instead of the process
 * environment (kill switches, DOLLHOUSE_TELEMETRY_DEBUG, socket and data root variables). */
int dh_telemetry_options_set_env(dh_telemetry_options* options, const char* name,
                                 const char* value);
/* This run's installation (method npm|npx|git-clone|docker|unknown, type new|upgrade|reinstall,
 * previous_version may be NULL) or update (error_category may be NULL). Sent at every hello
 * until the daemon has settled it; see ClientOptions::installation. */
int dh_telemetry_options_set_installation(dh_telemetry_options* options, const char* method,
                                          const char* type, const char* previous_version);
int dh_telemetry_options_set_update(dh_telemetry_options* options, const char* from_version,
                                    const char* to_version, int success,
                                    const char* error_category, long long duration_ms);

/* A client from options (which the caller still frees). NULL on NULL options or no memory. */
dh_telemetry_client* dh_telemetry_open_with(const dh_telemetry_options* options);

/* Results of dh_telemetry_install_crash_handler (CrashHandlerResult in C++). */
#define DH_TELEMETRY_CRASH_INSTALLED 0
#define DH_TELEMETRY_CRASH_DISABLED 1
#define DH_TELEMETRY_CRASH_ALREADY_INSTALLED 2
#define DH_TELEMETRY_CRASH_NOT_SUPPORTED 3
#define DH_TELEMETRY_CRASH_FAILED 4

/* Installs the process's crash handler (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT and
 * std::terminate); component may be NULL ("native"). Call it early, on the main thread. A
 * record is written only while the client lives and the daemon said crash reports are
 * collected. DH_TELEMETRY_CRASH_FAILED for a NULL client. */
int dh_telemetry_install_crash_handler(dh_telemetry_client* client, const char* component);

/* The user's answer as the daemon's latest hello reply said (ConsentAnswer in C++). */
#define DH_TELEMETRY_CONSENT_UNKNOWN 0
#define DH_TELEMETRY_CONSENT_NOT_ANSWERED 1
#define DH_TELEMETRY_CONSENT_DECLINED 2
#define DH_TELEMETRY_CONSENT_GIVEN 3
#define DH_TELEMETRY_CONSENT_WITHDRAWN 4

/* No I/O: what the latest hello reply said. UNKNOWN for a NULL client. */
int dh_telemetry_consent(const dh_telemetry_client* client);
/* 1 when the daemon collects now (consent given, no kill switch, policy current), else 0. */
int dh_telemetry_collecting(const dh_telemetry_client* client);
/* Says hello again and returns the answer (waits at most timeout_ms). */
int dh_telemetry_refresh_consent(dh_telemetry_client* client, int timeout_ms);

/* Hands queued events over (bounded wait) and frees the client. */
void dh_telemetry_close(dh_telemetry_client* client);

#ifdef __cplusplus
}
#endif

#endif /* DOLLHOUSE_TELEMETRY_H */
