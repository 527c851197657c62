# Compiles the daemon (and the privacy library it uses) for Windows without linking it: Debian
# ships SQLite, RE2, OpenSSL, zlib and spdlog/fmt for Linux only, but their headers describe the
# same API on Windows, so the daemon's Windows code paths (the pipe listener in run_daemon, the
# service entry in main, LockFileEx, RtlGetVersion) go through the compiler in CI. Only those
# libraries' header directories are exposed; OpenSSL's two configuration headers come from the
# build machine's multiarch directory (they describe Linux; for a compile check that is enough).
set(check_headers ${CMAKE_BINARY_DIR}/host-headers-daemon)
file(MAKE_DIRECTORY ${check_headers}/openssl)
foreach(item sqlite3.h sqlite3ext.h zlib.h zconf.h spdlog fmt re2)
  if(NOT EXISTS ${DOLLHOUSE_HOST_INCLUDE_DIR}/${item})
    message(FATAL_ERROR "${DOLLHOUSE_HOST_INCLUDE_DIR}/${item} is missing: run "
                        "scripts/setup.sh, or pass -DDOLLHOUSE_WINDOWS_DAEMON_COMPILE_CHECK=OFF")
  endif()
  file(CREATE_LINK ${DOLLHOUSE_HOST_INCLUDE_DIR}/${item} ${check_headers}/${item} SYMBOLIC)
endforeach()
file(GLOB openssl_headers ${DOLLHOUSE_HOST_INCLUDE_DIR}/openssl/*.h
     ${DOLLHOUSE_HOST_INCLUDE_DIR}/x86_64-linux-gnu/openssl/*.h)
foreach(header ${openssl_headers})
  get_filename_component(name ${header} NAME)
  file(CREATE_LINK ${header} ${check_headers}/openssl/${name} SYMBOLIC)
endforeach()

include(${PROJECT_SOURCE_DIR}/daemon/sources.cmake)
list(TRANSFORM DOLLHOUSE_DAEMON_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/daemon/)
list(TRANSFORM DOLLHOUSE_DAEMON_WINDOWS_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/daemon/)
file(GLOB privacy_sources ${PROJECT_SOURCE_DIR}/privacy/*.cpp)
list(FILTER privacy_sources EXCLUDE REGEX "_posix\\.cpp$")
add_library(dollhouse_daemon_windows_check OBJECT ${DOLLHOUSE_DAEMON_SOURCES}
            ${DOLLHOUSE_DAEMON_WINDOWS_SOURCES} ${PROJECT_SOURCE_DIR}/daemon/main.cpp
            ${privacy_sources})
target_include_directories(dollhouse_daemon_windows_check SYSTEM PRIVATE ${check_headers})
target_include_directories(dollhouse_daemon_windows_check PRIVATE ${PROJECT_SOURCE_DIR})
# spdlog and fmt as header-only libraries; nothing is linked.
target_compile_definitions(dollhouse_daemon_windows_check PRIVATE SPDLOG_FMT_EXTERNAL
                           FMT_HEADER_ONLY)
target_link_libraries(dollhouse_daemon_windows_check PRIVATE dollhouse_build_flags
                      Boost::headers nlohmann_json::nlohmann_json CLI11::CLI11)
