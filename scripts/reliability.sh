#!/usr/bin/env bash
# The long version of the fault suite (docs/reliability.md): every test labelled "fault" with
# DOLLHOUSE_FAULT_LONG=1, the fuzz targets for longer, and a longer soak. It reuses the test
# build (./scripts/test.sh builds it) and prints each test's FIGURES line at the end.
#
#   scripts/reliability.sh [--fuzz-seconds N] [--soak-minutes N]
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=600
soak_minutes=30
while (($#)); do
  case "$1" in
    --fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
    --soak-minutes) soak_minutes=$2; shift 2 ;;
    *) echo "usage: scripts/reliability.sh [--fuzz-seconds N] [--soak-minutes N]" >&2; exit 2 ;;
  esac
done
build_dir=${DOLLHOUSE_TEST_BUILD_DIR:-build-test}
if [[ ! -x "$build_dir/bin/dollhouse-telemetryd" ]]; then
  echo "reliability: no test build in $build_dir: run ./scripts/test.sh first" >&2
  exit 1
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$(mktemp -t dollhouse-reliability.XXXXXX)
status=0
(cd "$build_dir" && DOLLHOUSE_FAULT_LONG=1 ctest -L fault -E '^soak$' --output-on-failure \
  --timeout 7200 -V) >"$log" 2>&1 || status=1
DOLLHOUSE_BUILD_DIR=$build_dir ./scripts/soak.sh --minutes "$soak_minutes" | tee -a "$log" || status=1
./scripts/fuzz.sh --seconds "$fuzz_seconds" | tee -a "$log" || status=1
echo "== figures"
grep -o 'FIGURES .*' "$log" | sort -u || true
echo "full output: $log"
exit $status
