# (filled in by the tests of this part)

# Consent
# Consent is never bypassed: no answer, a decline, every kill switch (in the daemon's and in the
# app's environment) and a withdrawal while a batch is on the wire, against a recording server.
dollhouse_add_fault_test(consent_bypass_test
  SOURCES consent_bypass_test.cpp consent_recording_server.cpp
  LIBS ${DOLLHOUSE_FAULT_LIBS} dollhouse_daemon dollhouse_telemetry_client
  TIMEOUT 400)

# Server abuse and soak
# The reference server under abuse (oversized and chunked bodies, gzip bombs, malformed JSON,
# wrong content types, a connection flood, slow clients) while a normal client keeps being served.
dollhouse_add_fault_test(server_abuse_test
  SOURCES server_abuse_test.cpp server_abuse_support.cpp
  LIBS dollhouse_server_test_harness ${DOLLHOUSE_FAULT_LIBS} ZLIB::ZLIB
  TIMEOUT 300)
# The soak: a real daemon and server under mixed load while the server goes away and comes back;
# RSS, descriptors and database size sampled, and nothing acknowledged may be lost.
# scripts/soak.sh runs it for any length; ctest runs the 2-minute version CI runs.
add_executable(dollhouse-soak soak.cpp server_abuse_support.cpp)
target_link_libraries(dollhouse-soak PRIVATE dollhouse_server_test_harness dollhouse_test_harness
                      dollhouse_test_support dollhouse_build_flags)
add_dependencies(dollhouse-soak dollhouse-telemetryd dollhouse-telemetry-server)
add_test(NAME soak COMMAND dollhouse-soak --minutes 2)
set_tests_properties(soak PROPERTIES LABELS fault TIMEOUT 300)
