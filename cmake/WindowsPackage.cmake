# The Windows distribution: `cmake --install` and a CPack ZIP (`cpack -G ZIP` in the build
# directory) holding
#   bin/       dollhouse-telemetryd.exe, dollhousectl.exe, dollhouse-telemetry-demo.exe
#              (statically linked: no MinGW or third-party DLLs beside them)
#   include/   dollhouse/telemetry.hpp and telemetry.h, the client library's public headers
#   lib/       libdollhouse-telemetry.a, the client library with the ipc and common objects it
#              uses (link it with -lws2_32 -lmswsock -ladvapi32 -lbcrypt -lshell32), and
#              DollhouseTelemetry's CMake package (DollhouseTelemetry::client)
#   share/doc/dollhouse-telemetry/   the documentation, privacy policy included (dollhousectl
#              finds the policy there from its own directory, as on Linux)
# The layout is the Linux install's (packaging/CMakeLists.txt), so the same relative paths hold.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# `cmake --install` and `cpack` package what `cmake --build` made and do not build "all" first
# (which here includes every test program and a long static link): build, then package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS dollhouse-telemetryd dollhousectl dollhouse-telemetry-demo
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

add_library(dollhouse_telemetry_installed STATIC $<TARGET_OBJECTS:dollhouse_telemetry_client>
            $<TARGET_OBJECTS:dollhouse_ipc> $<TARGET_OBJECTS:dollhouse_common>)
set_target_properties(dollhouse_telemetry_installed PROPERTIES
  OUTPUT_NAME dollhouse-telemetry EXPORT_NAME client LINKER_LANGUAGE CXX)
target_include_directories(dollhouse_telemetry_installed
  INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(dollhouse_telemetry_installed
  INTERFACE Threads::Threads ws2_32 mswsock advapi32 bcrypt shell32)
install(TARGETS dollhouse_telemetry_installed EXPORT DollhouseTelemetryTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/dollhouse/telemetry.hpp
              ${PROJECT_SOURCE_DIR}/include/dollhouse/telemetry.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dollhouse)

set(DOLLHOUSE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/DollhouseTelemetry)
install(EXPORT DollhouseTelemetryTargets NAMESPACE DollhouseTelemetry::
        DESTINATION ${DOLLHOUSE_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/packaging/DollhouseTelemetryConfig.cmake.in
  ${CMAKE_BINARY_DIR}/packaging/DollhouseTelemetryConfig.cmake
  INSTALL_DESTINATION ${DOLLHOUSE_CMAKE_DIR})
write_basic_package_version_file(
  ${CMAKE_BINARY_DIR}/packaging/DollhouseTelemetryConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/packaging/DollhouseTelemetryConfig.cmake
              ${CMAKE_BINARY_DIR}/packaging/DollhouseTelemetryConfigVersion.cmake
        DESTINATION ${DOLLHOUSE_CMAKE_DIR})

file(GLOB dollhouse_docs ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${dollhouse_docs}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/dollhouse-telemetry)

set(CPACK_GENERATOR ZIP)
set(CPACK_PACKAGE_NAME dollhouse-telemetry)
set(CPACK_PACKAGE_VENDOR "DollhouseMCP")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Privacy-first, opt-in telemetry agent and client library")
set(CPACK_PACKAGE_FILE_NAME dollhouse-telemetry-${PROJECT_VERSION}-windows-${CMAKE_SYSTEM_PROCESSOR})
# Tests and GoogleTest install nothing; only what is listed above goes into the archive.
# The programs without their debug information (a Debug build's daemon is over 100 MB with it).
set(CPACK_STRIP_FILES TRUE)
set(CPACK_INSTALL_CMAKE_PROJECTS ${CMAKE_BINARY_DIR};${PROJECT_NAME};ALL;/)
include(CPack)
