# The daemon's third-party libraries for the Windows build, as imported targets with the names
# the Linux build gets from find_package: SQLite::SQLite3, PkgConfig::RE2, ZLIB::ZLIB and
# spdlog::spdlog. OpenSSL is not used on Windows: the uploader's TLS is WinHTTP's.
#
# - SQLite and RE2: Debian ships neither for MinGW, so scripts/windows-deps.sh fetches Debian's
#   source packages into DOLLHOUSE_WINDOWS_DEPS_DIR/src, and this file compiles each once, at
#   configure time, into a prefix named after the source package's version, the compiler and
#   the recipe revision. Every later configure, in this build directory or any other, finds the
#   prefix and compiles nothing. A new Debian version or compiler gets a new prefix.
# - zlib: Debian's libz-mingw-w64-dev (static libz.a from the MinGW sysroot).
# - spdlog and fmt: header-only, from Debian's libspdlog-dev and libfmt-dev headers, exposed one
#   directory at a time.

if(DEFINED ENV{DOLLHOUSE_WINDOWS_DEPS_DIR})
  set(dollhouse_default_deps_dir $ENV{DOLLHOUSE_WINDOWS_DEPS_DIR})
elseif(DEFINED ENV{XDG_CACHE_HOME})
  set(dollhouse_default_deps_dir $ENV{XDG_CACHE_HOME}/dollhouse/windows-deps)
else()
  set(dollhouse_default_deps_dir $ENV{HOME}/.cache/dollhouse/windows-deps)
endif()
set(DOLLHOUSE_WINDOWS_DEPS_DIR ${dollhouse_default_deps_dir} CACHE PATH
    "Where scripts/windows-deps.sh put the SQLite and RE2 sources, and their Windows builds go")
# Bumped whenever the recipes below change, so a prefix an older recipe built is not reused.
set(kDollhouseWindowsDepsRecipe 1)
# SQLite's compile-time options: Debian's own (debian/rules) where they matter to the daemon,
# with extension loading left out (the daemon loads none, so no DLL can be injected that way).
set(kDollhouseSqliteDefinitions -DSQLITE_THREADSAFE=1 -DSQLITE_SECURE_DELETE
    -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_LIKE_DOESNT_MATCH_BLOBS
    -DSQLITE_USE_URI=1 -DSQLITE_MAX_SCHEMA_RETRY=25 -DSQLITE_MAX_VARIABLE_NUMBER=250000
    -DSQLITE_OMIT_LOAD_EXTENSION)

find_program(DOLLHOUSE_MAKE_PROGRAM make REQUIRED)
find_program(DOLLHOUSE_PERL_PROGRAM perl REQUIRED)
find_program(DOLLHOUSE_PYTHON_PROGRAM python3 REQUIRED)
cmake_host_system_information(RESULT dollhouse_host_cores QUERY NUMBER_OF_LOGICAL_CORES)

# Runs one step of a recipe; stops the configure with the step's output when it fails.
function(dollhouse_deps_run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "Windows dependencies: ${what} failed (${rc}):\n${out}")
  endif()
endfunction()

# dollhouse_windows_dependency(PACKAGE OUT_PREFIX): the prefix holding PACKAGE built for this
# compiler, building it first (under a lock, as parallel configures may race) when missing.
function(dollhouse_windows_dependency package out_prefix)
  set(src_root ${DOLLHOUSE_WINDOWS_DEPS_DIR}/src)
  if(NOT EXISTS ${src_root}/${package}.version)
    message(FATAL_ERROR "The Debian source package ${package} is not in ${src_root}: run "
                        "scripts/windows-deps.sh (scripts/setup.sh --windows runs it).")
  endif()
  file(STRINGS ${src_root}/${package}.version version LIMIT_COUNT 1)
  set(source ${src_root}/${package}-${version})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src_root}/${package}.version)
  string(REPLACE ":" "_" key "${package}-${version}")
  set(key "${key}-${CMAKE_SYSTEM_PROCESSOR}-${CMAKE_SYSTEM_NAME}")
  set(key "${key}-${CMAKE_CXX_COMPILER_ID}${CMAKE_CXX_COMPILER_VERSION}-r${kDollhouseWindowsDepsRecipe}")
  set(prefix ${DOLLHOUSE_WINDOWS_DEPS_DIR}/prefix/${key})
  set(${out_prefix} ${prefix} PARENT_SCOPE)
  if(EXISTS ${prefix}/.complete)
    message(STATUS "Windows dependency ${package} ${version}: ${prefix}")
    return()
  endif()
  file(MAKE_DIRECTORY ${DOLLHOUSE_WINDOWS_DEPS_DIR}/prefix)
  file(LOCK ${DOLLHOUSE_WINDOWS_DEPS_DIR}/prefix/${key}.lock GUARD FUNCTION TIMEOUT 1800)
  if(EXISTS ${prefix}/.complete)
    return()
  endif()
  message(STATUS "Windows dependency ${package} ${version}: building it once into ${prefix}")
  set(work ${DOLLHOUSE_WINDOWS_DEPS_DIR}/work/${key})
  file(REMOVE_RECURSE ${work} ${prefix})
  file(MAKE_DIRECTORY ${work} ${prefix}/include ${prefix}/lib)
  cmake_language(CALL dollhouse_build_${package} ${source} ${work} ${prefix})
  file(REMOVE_RECURSE ${work})
  file(TOUCH ${prefix}/.complete)
endfunction()

# SQLite: Debian's source is SQLite's full tree; its own makefile generates the amalgamation
# (sqlite3.c, with the build machine's compiler and tclsh: the file is the same for every
# platform), which is then compiled for Windows.
function(dollhouse_build_sqlite3 source work prefix)
  dollhouse_deps_run("SQLite's configure" ${CMAKE_COMMAND} -E chdir ${work}
                     sh ${source}/configure --disable-tcl --disable-readline)
  dollhouse_deps_run("SQLite's amalgamation" ${CMAKE_COMMAND} -E chdir ${work}
                     ${DOLLHOUSE_MAKE_PROGRAM} -j${dollhouse_host_cores} sqlite3.c)
  dollhouse_deps_run("compiling SQLite" ${CMAKE_C_COMPILER} -O2 -DNDEBUG
                     ${kDollhouseSqliteDefinitions} -c ${work}/sqlite3.c -o ${work}/sqlite3.o)
  dollhouse_deps_run("archiving SQLite" ${CMAKE_AR} rcs ${prefix}/lib/libsqlite3.a
                     ${work}/sqlite3.o)
  file(COPY ${work}/sqlite3.h ${work}/sqlite3ext.h DESTINATION ${prefix}/include)
endfunction()

# RE2: Debian's source leaves out the generated Unicode and Perl class tables; they are made
# again from Debian's unicode-data (as Debian's own build does), then RE2's CMake project is
# built with this build's compilers.
function(dollhouse_build_re2 source work prefix)
  foreach(table perl_groups unicode_casefold unicode_groups)
    if(EXISTS ${source}/re2/${table}.cc)
      continue()
    endif()
    if(table STREQUAL perl_groups)
      set(generator ${DOLLHOUSE_PERL_PROGRAM} re2/make_perl_groups.pl)
    else()
      set(generator ${DOLLHOUSE_PYTHON_PROGRAM} re2/make_${table}.py)
    endif()
    execute_process(COMMAND ${generator} WORKING_DIRECTORY ${source}
                    OUTPUT_FILE ${work}/${table}.cc RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "Windows dependencies: generating RE2's ${table}.cc failed: ${err} "
                          "(install unicode-data, python3-six and perl: scripts/setup.sh --windows)")
    endif()
    file(RENAME ${work}/${table}.cc ${source}/re2/${table}.cc)
  endforeach()
  dollhouse_deps_run("configuring RE2" ${CMAKE_COMMAND} -S ${source} -B ${work}/build
    -G ${CMAKE_GENERATOR} -DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
    -DCMAKE_SYSTEM_NAME=${CMAKE_SYSTEM_NAME} -DCMAKE_SYSTEM_PROCESSOR=${CMAKE_SYSTEM_PROCESSOR}
    -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
    -DCMAKE_AR=${CMAKE_AR} -DCMAKE_RANLIB=${CMAKE_RANLIB} "-DCMAKE_FIND_ROOT_PATH=${CMAKE_FIND_ROOT_PATH}"
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DRE2_BUILD_TESTING=OFF
    -DCMAKE_INSTALL_PREFIX=${prefix})
  dollhouse_deps_run("building RE2" ${CMAKE_COMMAND} --build ${work}/build
                     --parallel ${dollhouse_host_cores})
  dollhouse_deps_run("installing RE2" ${CMAKE_COMMAND} --install ${work}/build)
endfunction()

dollhouse_windows_dependency(sqlite3 sqlite_prefix)
add_library(SQLite::SQLite3 STATIC IMPORTED)
set_target_properties(SQLite::SQLite3 PROPERTIES
  IMPORTED_LOCATION ${sqlite_prefix}/lib/libsqlite3.a
  INTERFACE_INCLUDE_DIRECTORIES ${sqlite_prefix}/include)

dollhouse_windows_dependency(re2 re2_prefix)
add_library(PkgConfig::RE2 STATIC IMPORTED)
set_target_properties(PkgConfig::RE2 PROPERTIES
  IMPORTED_LOCATION ${re2_prefix}/lib/libre2.a
  INTERFACE_INCLUDE_DIRECTORIES ${re2_prefix}/include
  INTERFACE_LINK_LIBRARIES Threads::Threads)

# The static zlib, not the import library of zlib1.dll beside it.
find_path(DOLLHOUSE_ZLIB_INCLUDE_DIR zlib.h REQUIRED)
find_library(DOLLHOUSE_ZLIB_LIBRARY NAMES libz.a REQUIRED)
add_library(ZLIB::ZLIB STATIC IMPORTED)
set_target_properties(ZLIB::ZLIB PROPERTIES IMPORTED_LOCATION ${DOLLHOUSE_ZLIB_LIBRARY}
                      INTERFACE_INCLUDE_DIRECTORIES ${DOLLHOUSE_ZLIB_INCLUDE_DIR})

set(logging_headers ${CMAKE_BINARY_DIR}/host-headers-logging)
file(MAKE_DIRECTORY ${logging_headers})
foreach(dir spdlog fmt)
  if(NOT EXISTS ${DOLLHOUSE_HOST_INCLUDE_DIR}/${dir})
    message(FATAL_ERROR "${DOLLHOUSE_HOST_INCLUDE_DIR}/${dir} is missing: install libspdlog-dev "
                        "and libfmt-dev")
  endif()
  file(CREATE_LINK ${DOLLHOUSE_HOST_INCLUDE_DIR}/${dir} ${logging_headers}/${dir} SYMBOLIC)
endforeach()
add_library(spdlog::spdlog INTERFACE IMPORTED)
target_include_directories(spdlog::spdlog SYSTEM INTERFACE ${logging_headers})
# SPDLOG_WCHAR_FILENAMES: the daemon's log file is opened by its UTF-16 path, so a profile
# directory outside the ANSI code page works (daemon/logging.cpp).
target_compile_definitions(spdlog::spdlog INTERFACE SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL
                           FMT_HEADER_ONLY SPDLOG_WCHAR_FILENAMES)
