#!/usr/bin/env bash
# Installs what is needed, builds, and shows Dollhouse Telemetry at work: the reference server,
# the daemon, an app that emits every event type, and dollhousectl showing what was kept, before
# and after consent, and what reached the server.
# Uses its own data root (build/demo-home) and a server on 127.0.0.1 (port $DOLLHOUSE_DEMO_PORT,
# default 8080), never your real ~/.dollhouse or the public ingestion server.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
build_dir=build
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDOLLHOUSE_BUILD_TESTS=OFF \
  -DDOLLHOUSE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target dollhouse-telemetryd dollhousectl \
  dollhouse-telemetry-demo dollhouse-telemetry-server

bin="$PWD/$build_dir/bin"
home="$PWD/$build_dir/demo-home"
socket="$home/run/telemetry.sock"
port=${DOLLHOUSE_DEMO_PORT:-8080}
server_url="http://127.0.0.1:$port"
ctl() { "$bin/dollhousectl" --home "$home" --socket "$socket" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The demo shows collection; a CI marker or DO_NOT_TRACK in this shell would (rightly) turn it
# off, so the demo says so instead of pretending.
rm -rf "$home"
mkdir -p "$home"
step "Starting the reference server on $server_url (database $home/server.db)"
"$bin/dollhouse-telemetry-server" --listen "127.0.0.1:$port" --database "$home/server.db" \
  --log-level warn &
server=$!
step "Starting the daemon (data root $home), uploading to the local server"
"$bin/dollhouse-telemetryd" --home "$home" --socket "$socket" --log-level warn \
  --endpoint "$server_url/api/v1/telemetry" &
daemon=$!
trap 'kill $daemon $server 2>/dev/null; wait $daemon $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done
for _ in $(seq 100); do
  python3 -c "import urllib.request,sys; urllib.request.urlopen('$server_url/healthz', timeout=1)" \
    2>/dev/null && break
  sleep 0.1
done

step "Before consent: the app sends, the daemon keeps nothing"
"$bin/dollhouse-telemetry-demo" --home "$home" --socket "$socket"
ctl telemetry show

step "dollhousectl telemetry enable"
ctl telemetry enable

step "After consent: the app sends the same events"
"$bin/dollhouse-telemetry-demo" --home "$home" --socket "$socket"

step "dollhousectl telemetry show (the daemon has already removed personal data: a path in your home shows as /home/<user>)"
ctl telemetry show
step "One event in full (dollhousectl telemetry show --json --limit 1)"
ctl telemetry show --json --limit 1

step "dollhousectl telemetry flush (upload now instead of within the hour)"
ctl telemetry flush

step "dollhousectl telemetry show: now marked sent"
ctl telemetry show --limit 5

step "dollhousectl telemetry status"
ctl telemetry status

step "What the server keeps: aggregates only ($server_url/api/v1/stats/installations)"
python3 - "$server_url" <<'PY'
import json, sys, urllib.request
stats = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/stats/installations"))
# Only the days with installations; the API also lists the empty ones for charts.
stats["byDay"] = [d for d in stats.get("byDay", []) if d.get("total")]
print(json.dumps(stats, indent=2))
PY
echo "Dashboard: $server_url/"

if [ -t 0 ]; then
  step "The daemon and the server keep running. Try, in another terminal:"
  echo "  $bin/dollhousectl --home $home --socket $socket telemetry status"
  echo "  $bin/dollhousectl --home $home --socket $socket telemetry disable"
  echo "and open the dashboard at $server_url/ in a browser."
  echo "Press Ctrl-C to stop both."
  wait $daemon || true
fi
