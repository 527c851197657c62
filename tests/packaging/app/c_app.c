/* The C ABI through pkg-config: opens a client with DO_NOT_TRACK=1 set, which must be off. */
#define _POSIX_C_SOURCE 200809L
#include <dollhouse/telemetry.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  setenv("DO_NOT_TRACK", "1", 1);
  dh_telemetry_client* client = dh_telemetry_open("packaging-c-app", "1.0.0", NULL);
  int enabled = dh_telemetry_enabled(client);
  dh_telemetry_close(client);
  if (enabled) {
    fprintf(stderr, "the client is enabled despite DO_NOT_TRACK=1\n");
    return 1;
  }
  puts("packaging C app: client opened, telemetry off");
  return 0;
}
