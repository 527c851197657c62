# The Windows build: every program but the ingestion server (dollhouse-telemetryd.exe,
# dollhousectl.exe, dollhouse-telemetry-demo.exe), the client library, the service wrapper and
# their tests. Debian cross-compiles it with MinGW-w64 (cmake/mingw-w64-x86_64.cmake) and runs
# the tests under Wine; a native MinGW build on Windows uses the same lists. The daemon's
# libraries come from cmake/WindowsDependencies.cmake (SQLite and RE2 built from Debian's source
# packages, zlib from libz-mingw-w64-dev, spdlog and fmt header-only); its TLS is WinHTTP's.

# Header-only libraries from the build machine, exposed one directory at a time (never all of
# /usr/include, whose glibc headers would shadow MinGW's).
set(DOLLHOUSE_HOST_INCLUDE_DIR /usr/include CACHE PATH
    "Where the Boost, nlohmann/json and CLI11 headers are on the build machine")
set(host_headers ${CMAKE_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${host_headers})
foreach(dir boost nlohmann CLI)
  if(NOT EXISTS ${DOLLHOUSE_HOST_INCLUDE_DIR}/${dir})
    message(FATAL_ERROR "${DOLLHOUSE_HOST_INCLUDE_DIR}/${dir} is missing: install "
                        "libboost-dev, nlohmann-json3-dev and libcli11-dev")
  endif()
  file(CREATE_LINK ${DOLLHOUSE_HOST_INCLUDE_DIR}/${dir} ${host_headers}/${dir} SYMBOLIC)
endforeach()
foreach(target Boost::headers nlohmann_json::nlohmann_json CLI11::CLI11)
  add_library(${target} INTERFACE IMPORTED)
  target_include_directories(${target} SYSTEM INTERFACE ${host_headers})
endforeach()
find_package(Threads REQUIRED)

# Windows 10 APIs; static runtime so the programs run without MinGW DLLs next to them.
target_compile_definitions(dollhouse_build_flags INTERFACE _WIN32_WINNT=0x0A00 WINVER=0x0A00
                           UNICODE _UNICODE WIN32_LEAN_AND_MEAN NOMINMAX)
target_link_options(dollhouse_build_flags INTERFACE -static)
# Optimised a little and without debug information by default. Without optimisation every
# inline function of Beast, Asio and nlohmann/json stays a COMDAT section of its own: an object
# of the daemon holds some 60 000 sections (13 MB, 20 MB with debug information), its static
# library 200-345 MB, and archiving and linking it take GNU ld ten minutes and more on two
# cores. With -O1 the same object has 7 600 sections (2 MB) and compiles as fast. Turn
# DOLLHOUSE_WINDOWS_DEBUG_INFO on to debug the Windows programs with gdb.
option(DOLLHOUSE_WINDOWS_DEBUG_INFO "Compile the Windows programs with debug information" OFF)
target_compile_options(dollhouse_build_flags INTERFACE -O1)
if(NOT DOLLHOUSE_WINDOWS_DEBUG_INFO)
  target_compile_options(dollhouse_build_flags INTERFACE -g0)
  target_link_options(dollhouse_build_flags INTERFACE -Wl,--strip-debug)
endif()

include(${CMAKE_CURRENT_LIST_DIR}/WindowsDependencies.cmake)

add_subdirectory(common)
add_subdirectory(privacy)
add_subdirectory(ipc)
add_subdirectory(windows-service)
add_subdirectory(daemon)
add_subdirectory(clientlib)
add_subdirectory(ctl)
add_subdirectory(demo)
include(${CMAKE_CURRENT_LIST_DIR}/WindowsPackage.cmake)

if(DOLLHOUSE_BUILD_TESTS)
  enable_testing()
  # GoogleTest from Debian's source package (libgtest-dev ships /usr/src/googletest).
  set(DOLLHOUSE_GTEST_SOURCE_DIR /usr/src/googletest CACHE PATH "GoogleTest sources")
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  add_subdirectory(${DOLLHOUSE_GTEST_SOURCE_DIR} ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
  add_subdirectory(tests/windows)
endif()
