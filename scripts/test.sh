#!/usr/bin/env bash
# Installs what is needed, builds everything with warnings as errors under AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the whole test suite; then cross-compiles the Windows
# build (the daemon, dollhousectl, the demo, the client library, the service wrapper) with
# MinGW-w64, runs its tests under Wine (end to end against the Linux reference server) and packs
# the Windows ZIP; the fuzz targets run for a bounded time in between. This is what CI runs.
# DOLLHOUSE_SKIP_WINDOWS=1 leaves the Windows part out.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

windows=true
[[ "${DOLLHOUSE_SKIP_WINDOWS:-}" == 1 ]] && windows=false
if $windows; then ./scripts/setup.sh --windows; else ./scripts/setup.sh; fi

# ccache: paths relative to the checkout, so a fresh clone elsewhere still hits the cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

build_dir=${DOLLHOUSE_TEST_BUILD_DIR:-build-test}
jobs=${DOLLHOUSE_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDOLLHOUSE_WERROR=ON \
  -DDOLLHOUSE_SANITIZE=ON -DDOLLHOUSE_BUILD_BENCH=ON >/dev/null
cmake --build "$build_dir" -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build_dir"
ctest --output-on-failure -j "$jobs" --timeout 300

# The libFuzzer targets (clang, ASan+UBSan), each for the CI length of scripts/fuzz.sh.
cd "$root"
./scripts/fuzz.sh

if $windows; then
  cd "$root"
  windows_dir=${DOLLHOUSE_WINDOWS_BUILD_DIR:-build-windows}
  # The Windows end-to-end test uploads to the Linux reference server built above.
  cmake -S . -B "$windows_dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
    -DCMAKE_BUILD_TYPE=Debug -DDOLLHOUSE_WERROR=ON \
    -DDOLLHOUSE_LINUX_SERVER="$root/$build_dir/bin/dollhouse-telemetry-server" >/dev/null
  cmake --build "$windows_dir" -j "$jobs"
  # A Wine prefix of the build's own, created once before the tests start in parallel.
  export WINEPREFIX
  WINEPREFIX=$(realpath -m "$windows_dir/wine-prefix")
  ./scripts/wine-run.sh cmd /c exit 0 >/dev/null 2>&1 || true
  cd "$windows_dir"
  ctest --output-on-failure -j "$jobs" --timeout 600
  # The release artifact: the Windows programs, the client library and the docs in one ZIP.
  cpack -G ZIP
fi
