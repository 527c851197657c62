#include <stdio.h>

#include "dollhouse/telemetry.h"

int main(void) {
  dh_telemetry_options* options = dh_telemetry_options_new("example-native-c", "2.0.1");
  /* This run updated the app from 2.0.0: counted once, after the user's yes. */
  dh_telemetry_options_set_update(options, "2.0.0", "2.0.1", 1, NULL, 3100);
  dh_telemetry_client* telemetry = dh_telemetry_open_with(options);
  dh_telemetry_options_free(options);

  /* Early, on the main thread. */
  dh_telemetry_install_crash_handler(telemetry, "main");

  /* The first-run notice, only while the user has not answered. */
  if (dh_telemetry_refresh_consent(telemetry, 1000) == DH_TELEMETRY_CONSENT_NOT_ANSWERED) {
    fprintf(stderr,
            "example-native-c can send anonymous usage statistics and crash reports.\n"
            "Nothing is collected unless you agree: dollhousectl telemetry consent\n");
  }

  /* Feature use and an error the app recovered from. */
  dh_telemetry_usage_counter(telemetry, "sessions", 1);
  dh_telemetry_usage_timing(telemetry, "startup", 410.0);
  dh_telemetry_track_json(telemetry,
                          "{\"eventType\":\"error\",\"errorType\":\"runtime\","
                          "\"errorCategory\":\"IO_ERROR\",\"errorMessage\":\"cannot open cache\","
                          "\"component\":\"cache\",\"recovered\":true}");

  /* At exit: a bounded wait, then the client is freed (NULL-safe throughout). */
  dh_telemetry_flush(telemetry, 1000);
  dh_telemetry_close(telemetry);
  return 0;
}
