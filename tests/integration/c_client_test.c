/* The C ABI from a program compiled as C: options with an installation, the crash handler, the
 * consent state, track, usage and flush against the real daemon. crash_capture_test runs it.
 *
 * Usage: c_client_test ROOT SOCKET use|crash
 * Prints one "name: value" line per step; exits 0 when every call did what the consent state
 * says it should, 1 otherwise. With "crash" it then dies of SIGSEGV. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dollhouse/telemetry.h"

static int check(int ok, const char* what) {
  if (!ok) fprintf(stderr, "c_client_test: %s failed\n", what);
  return ok ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: c_client_test ROOT SOCKET use|crash\n");
    return 2;
  }
  int failures = 0;
  dh_telemetry_options* options = dh_telemetry_options_new("c-client", "0.4.2");
  failures += check(options != NULL, "dh_telemetry_options_new");
  failures += check(dh_telemetry_options_set_socket(options, argv[2]) == 0, "set_socket");
  failures += check(dh_telemetry_options_set_data_root(options, argv[1]) == 0, "set_data_root");
  failures += check(dh_telemetry_options_set_mcp_client(options, "other") == 0, "set_mcp_client");
  failures += check(dh_telemetry_options_set_installation(options, "unknown", "new", NULL) == 0,
                    "set_installation");
  failures += check(dh_telemetry_options_set_socket(NULL, argv[2]) == -1, "NULL options refused");
  dh_telemetry_client* client = dh_telemetry_open_with(options);
  dh_telemetry_options_free(options);
  failures += check(client != NULL, "dh_telemetry_open_with");
  failures += check(dh_telemetry_enabled(client) == 1, "dh_telemetry_enabled");

  int handler = dh_telemetry_install_crash_handler(client, "c-main");
  printf("handler: %d\n", handler);
  failures += check(handler == DH_TELEMETRY_CRASH_INSTALLED, "install_crash_handler");
  int answer = dh_telemetry_refresh_consent(client, 10000);
  printf("consent: %d\n", answer);
  printf("collecting: %d\n", dh_telemetry_collecting(client));
  failures += check(answer == dh_telemetry_consent(client), "consent state is kept");
  failures += check(answer != DH_TELEMETRY_CONSENT_UNKNOWN, "the daemon told the consent state");

  failures += check(dh_telemetry_track_json(client,
                                            "{\"eventType\":\"error\",\"errorType\":\"runtime\","
                                            "\"errorCategory\":\"C_ERROR\",\"errorMessage\":"
                                            "\"from C\",\"component\":\"c-main\","
                                            "\"recovered\":true}") == 0,
                    "track_json");
  failures += check(dh_telemetry_track_json(client, "[1,2]") == -1, "a non-object is refused");
  failures += check(dh_telemetry_usage_counter(client, "personasUsed", 2) == 0, "usage_counter");
  failures += check(dh_telemetry_usage_timing(client, "startup", 12.5) == 0, "usage_timing");
  int flushed = dh_telemetry_flush(client, 10000);
  printf("flush: %d\n", flushed);
  failures += check(flushed == 0, "flush");
  fflush(stdout);

  if (strcmp(argv[3], "crash") == 0) raise(SIGSEGV);
  dh_telemetry_close(client);
  return failures == 0 ? 0 : 1;
}
