# Server integration tests: the real dollhouse-telemetry-server over real HTTP(S) on 127.0.0.1.
add_library(dollhouse_server_test_harness STATIC server_harness.cpp)
target_link_libraries(dollhouse_server_test_harness
  PUBLIC dollhouse_server_test_support dollhouse_server PRIVATE dollhouse_build_flags)

dollhouse_add_test(server_integration_test SOURCES server_integration_test.cpp
                   LIBS dollhouse_server_test_harness)
dollhouse_add_test(server_tls_test SOURCES server_tls_test.cpp LIBS dollhouse_server_test_harness)
dollhouse_add_test(server_dashboard_test SOURCES server_dashboard_test.cpp
                   LIBS dollhouse_server_test_harness)
dollhouse_add_test(server_e2e_test SOURCES server_e2e_test.cpp
                   LIBS dollhouse_server_test_harness dollhouse_test_harness)
dollhouse_add_test(server_analytics_e2e_test SOURCES server_analytics_e2e_test.cpp
                   LIBS dollhouse_server_test_harness dollhouse_test_harness
                        dollhouse_telemetry_client
                   TIMEOUT 280)
foreach(t server_integration_test server_tls_test server_dashboard_test server_e2e_test)
  add_dependencies(${t} dollhouse-telemetry-server)
endforeach()
add_dependencies(server_e2e_test dollhouse-telemetryd dollhousectl)
add_dependencies(server_analytics_e2e_test dollhouse-telemetryd dollhouse-telemetry-demo)

# Several server instances on one throwaway PostgreSQL cluster (skipped, saying why, without
# the PostgreSQL server binaries).
dollhouse_add_test(server_instances_test SOURCES server_instances_test.cpp
                   LIBS dollhouse_server_test_harness)
add_dependencies(server_instances_test dollhouse-telemetry-server)
