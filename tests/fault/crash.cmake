# Crash durability (kill -9 under concurrent load) and exactly-once delivery to the reference
# server (kill -9 between the server's 2xx and the daemon's mark-as-sent, through a relay).
dollhouse_add_fault_test(crash_durability_test
  SOURCES crash_durability_test.cpp
  LIBS ${DOLLHOUSE_FAULT_LIBS}
  TIMEOUT 300)
dollhouse_add_fault_test(exactly_once_test
  SOURCES exactly_once_test.cpp exactly_once_proxy.cpp
  LIBS ${DOLLHOUSE_FAULT_LIBS} dollhouse_server_test_harness
  TIMEOUT 300)
