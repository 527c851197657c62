# The Windows build: common, ipc (named-pipe transport), the client library, dollhousectl, the
# service wrapper and their tests. Debian cross-compiles it with MinGW-w64
# (cmake/mingw-w64-x86_64.cmake) and runs the tests under Wine; a native MSVC or MinGW build on
# Windows uses the same lists. The daemon needs SQLite, RE2, OpenSSL, zlib and spdlog built for
# Windows, which Debian does not ship for MinGW: see docs/install.md for how to build it there.

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

add_subdirectory(common)
add_subdirectory(ipc)
add_subdirectory(windows-service)
add_subdirectory(clientlib)
add_subdirectory(ctl)

# The daemon is not linked for Windows here (Debian has no MinGW SQLite, RE2, OpenSSL, spdlog),
# but its sources are compiled against the build machine's headers of those libraries, so the
# Windows code paths of the daemon are at least checked by the compiler.
option(DOLLHOUSE_WINDOWS_DAEMON_COMPILE_CHECK "Compile (not link) the daemon for Windows" ON)
if(DOLLHOUSE_WINDOWS_DAEMON_COMPILE_CHECK)
  include(${CMAKE_CURRENT_LIST_DIR}/WindowsDaemonCheck.cmake)
endif()

if(DOLLHOUSE_BUILD_TESTS)
  enable_testing()
  # GoogleTest from Debian's source package (libgtest-dev ships /usr/src/googletest).
  set(DOLLHOUSE_GTEST_SOURCE_DIR /usr/src/googletest CACHE PATH "GoogleTest sources")
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  add_subdirectory(${DOLLHOUSE_GTEST_SOURCE_DIR} ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
  add_subdirectory(tests/windows)
endif()
