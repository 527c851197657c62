#!/usr/bin/env bash
# The soak run (docs/reliability.md): a real daemon and reference server under mixed load while
# the server goes down and comes back, sampling the daemon's RSS, descriptors and database size,
# then checking that nothing acknowledged was lost. Builds nothing: it runs dollhouse-soak from
# an existing build ($DOLLHOUSE_BUILD_DIR, else build-test; ./scripts/test.sh makes it).
#
#   scripts/soak.sh [--minutes N]      (default 2, as CI runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=2
while (($#)); do
  case "$1" in
    --minutes)
      [[ $# -ge 2 ]] || { echo "usage: scripts/soak.sh [--minutes N]" >&2; exit 2; }
      minutes=$2; shift 2 ;;
    -h|--help) echo "usage: scripts/soak.sh [--minutes N]"; exit 0 ;;
    *) echo "usage: scripts/soak.sh [--minutes N]" >&2; exit 2 ;;
  esac
done
build_dir=${DOLLHOUSE_BUILD_DIR:-build-test}
soak=$build_dir/bin/dollhouse-soak
for program in "$soak" "$build_dir/bin/dollhouse-telemetryd" "$build_dir/bin/dollhouse-telemetry-server"; do
  if [[ ! -x "$program" ]]; then
    echo "soak: $program is missing: build it first (cmake --build $build_dir --target dollhouse-soak)" >&2
    exit 1
  fi
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The programs the soak starts come from the same build.
DOLLHOUSE_BUILD_BIN=$(cd "$build_dir/bin" && pwd) exec "$soak" --minutes "$minutes"
