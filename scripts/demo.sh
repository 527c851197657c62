#!/usr/bin/env bash
# Installs what is needed, builds, and shows Dollhouse Telemetry at work: the daemon, an app that
# emits every event type, and dollhousectl showing what was kept, before and after consent.
# Uses its own data root (build/demo-home), never your real ~/.dollhouse.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
build_dir=build
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDOLLHOUSE_BUILD_TESTS=OFF \
  -DDOLLHOUSE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target dollhouse-telemetryd dollhousectl \
  dollhouse-telemetry-demo

bin="$PWD/$build_dir/bin"
home="$PWD/$build_dir/demo-home"
socket="$home/run/telemetry.sock"
ctl() { "$bin/dollhousectl" --home "$home" --socket "$socket" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The demo shows collection; a CI marker or DO_NOT_TRACK in this shell would (rightly) turn it
# off, so the demo says so instead of pretending.
rm -rf "$home"
mkdir -p "$home"
step "Starting the daemon (data root $home)"
"$bin/dollhouse-telemetryd" --home "$home" --socket "$socket" --log-level warn &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done

step "Before consent: the app sends, the daemon keeps nothing"
"$bin/dollhouse-telemetry-demo" --home "$home" --socket "$socket"
ctl telemetry show

step "dollhousectl telemetry enable"
ctl telemetry enable

step "After consent: the app sends the same events"
"$bin/dollhouse-telemetry-demo" --home "$home" --socket "$socket"

step "dollhousectl telemetry show (personal data such as your home path is already removed)"
ctl telemetry show
step "One event in full (dollhousectl telemetry show --json --limit 1)"
ctl telemetry show --json --limit 1

step "dollhousectl telemetry status"
ctl telemetry status

if [ -t 0 ]; then
  step "The daemon keeps running. Try, in another terminal:"
  echo "  $bin/dollhousectl --home $home --socket $socket telemetry status"
  echo "  $bin/dollhousectl --home $home --socket $socket telemetry disable"
  echo "Press Ctrl-C to stop it."
  wait $daemon || true
fi
