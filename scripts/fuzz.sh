#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer and runs each for a bounded time, from a temporary copy of its seed
# corpus. Exits non-zero when any target finds a crash, a leak, a timeout or runs out of memory;
# the reproducers stay in a temporary directory outside the checkout, whose path is printed.
#
#   scripts/fuzz.sh                      every target for kDefaultSeconds (what CI runs)
#   scripts/fuzz.sh --seconds 600        every target for 10 minutes
#   scripts/fuzz.sh scrubber_fuzzer      one target (several names may follow)
#   build-fuzz/bin/<target> <crash-file> replays one reproducer
#
# Needs the Debian packages clang and libclang-rt-14-dev (scripts/setup.sh installs them).
# DOLLHOUSE_FUZZ_BUILD_DIR overrides the build directory (build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Seconds each target runs by default: long enough to replay the seeds and mutate well past
# them on a loaded CI machine, short enough that all six finish in about two minutes.
readonly kDefaultSeconds=10
# One input taking longer than this is reported as a hang (libFuzzer -timeout). Normal inputs
# take milliseconds; the margin is for a machine busy with other work.
readonly kInputTimeoutSeconds=10
# Resident memory a target may use before libFuzzer reports it as out of memory (-rss_limit_mb).
readonly kRssLimitMb=2048
# Largest input libFuzzer generates (-max_len): every seed fits, and the limits under test
# (line limit, gzip bound, HTTP header limit) are reached through small limits or compression.
readonly kMaxInputBytes=4096

targets_all=(framer_fuzzer protocol_fuzzer event_validator_fuzzer scrubber_fuzzer
             server_request_fuzzer gzip_fuzzer)
declare -A dictionary=(
  [protocol_fuzzer]=json.dict [event_validator_fuzzer]=json.dict [framer_fuzzer]=json.dict
  [scrubber_fuzzer]=text.dict [server_request_fuzzer]=http.dict
)

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

seconds=$kDefaultSeconds
targets=()
while (($#)); do
  case "$1" in
    --seconds)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds needs a positive number" >&2; exit 2; }
      seconds=$2
      shift 2
      ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
      [[ " ${targets_all[*]} " == *" $1 "* ]] || { echo "fuzz: no target named $1" >&2; exit 2; }
      targets+=("$1")
      shift
      ;;
  esac
done
((${#targets[@]})) || targets=("${targets_all[@]}")

for tool in clang clang++; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool is missing: run scripts/setup.sh" >&2; exit 1; }
done

# ccache: paths relative to the checkout, so a fresh clone elsewhere still hits the cache.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
build_dir=${DOLLHOUSE_FUZZ_BUILD_DIR:-build-fuzz}
build_start=$SECONDS
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDOLLHOUSE_WERROR=ON -DDOLLHOUSE_SANITIZE=ON \
  -DDOLLHOUSE_BUILD_FUZZ=ON -DDOLLHOUSE_BUILD_TESTS=OFF -DDOLLHOUSE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "${DOLLHOUSE_JOBS:-$(nproc)}" --target "${targets[@]}"
echo "fuzz: build took $((SECONDS - build_start)) s"

work=$(mktemp -d "${TMPDIR:-/tmp}/dollhouse-fuzz.XXXXXX")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The value of libFuzzer's final "stat::NAME: value" line in a log.
stat_of() { sed -n "s/^stat::$2: *//p" "$1" | tail -n 1; }
# The last "cov: N ft: M" libFuzzer printed.
coverage_of() { grep -o 'cov: [0-9]* ft: [0-9]*' "$1" | tail -n 1; }

failed=()
run_start=$SECONDS
for target in "${targets[@]}"; do
  corpus=$work/$target/corpus
  artifacts=$work/$target/artifacts
  mkdir -p "$corpus" "$artifacts"
  cp "$root/fuzz/corpus/$target/"* "$corpus/"
  args=(-max_total_time="$seconds" -timeout="$kInputTimeoutSeconds" -rss_limit_mb="$kRssLimitMb"
        -max_len="$kMaxInputBytes" -detect_leaks=1 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [[ -n "${dictionary[$target]:-}" ]] && args+=(-dict="$root/fuzz/dictionaries/${dictionary[$target]}")
  log=$work/$target/fuzz.log
  status=0
  (cd "$work/$target" && "$root/$build_dir/bin/$target" "${args[@]}" "$corpus") >"$log" 2>&1 ||
    status=$?
  mapfile -t found < <(find "$artifacts" -type f | sort)
  read -r _ cov _ ft < <(coverage_of "$log" || true) || true
  printf 'fuzz: %-24s %9s runs  %7s exec/s  cov %5s  ft %6s  corpus %5s  %d crashes\n' \
    "$target" "$(stat_of "$log" number_of_executed_units)" \
    "$(stat_of "$log" average_exec_per_sec)" "${cov:-?}" "${ft:-?}" \
    "$(find "$corpus" -type f | wc -l)" "${#found[@]}"
  if ((status != 0 || ${#found[@]} > 0)); then
    failed+=("$target")
    echo "fuzz: $target failed (exit $status); log: $log" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|invariant violated|.*runtime error)' "$log" | head -n 5 >&2 || true
    for f in "${found[@]}"; do echo "fuzz:   reproducer: $f" >&2; done
  fi
done
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, took $((SECONDS - run_start)) s"

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}; logs and reproducers are in $work" >&2
  echo "fuzz: replay one with: $build_dir/bin/<target> <reproducer>" >&2
  exit 1
fi
rm -rf "$work"
echo "fuzz: no crashes, leaks or timeouts"
