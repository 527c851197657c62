# Consent
# Consent is never bypassed: no answer, a decline, every kill switch (in the daemon's and in the
# app's environment) and a withdrawal while a batch is on the wire, against a recording server.
dollhouse_add_fault_test(consent_bypass_test
  SOURCES consent_bypass_test.cpp consent_recording_server.cpp
  LIBS ${DOLLHOUSE_FAULT_LIBS} dollhouse_daemon dollhouse_telemetry_client
  TIMEOUT 400)

