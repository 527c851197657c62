#!/usr/bin/env bash
# Installs what is needed, builds everything with warnings as errors under AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the whole test suite. This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

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
