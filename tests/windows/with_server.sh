#!/usr/bin/env bash
# Runs a Windows test program under Wine with the Linux reference ingestion server beside it:
#
#   with_server.sh SERVER WINE_RUN PROGRAM [ARGS...]
#
# Starts SERVER (dollhouse-telemetry-server from a Linux build) on 127.0.0.1 with a free port
# and a database in a temporary directory, and a second one over HTTPS with a certificate from a
# throwaway CA, waits until both listen, runs PROGRAM through WINE_RUN (scripts/wine-run.sh) with
# DOLLHOUSE_TEST_SERVER_URL=http://127.0.0.1:PORT, DOLLHOUSE_TEST_TLS_SERVER_URL=https://…
# and DOLLHOUSE_TEST_CA_FILE (the CA's PEM file as a Windows path), and stops the servers
# afterwards. With SERVER empty the program runs without the server (its upload
# tests then skip). Exits with the program's exit code.
set -euo pipefail
server=$1
wine_run=$2
shift 2
# How long the server may take to listen on a loaded machine.
readonly kServerStartSeconds=60

if [[ -z "$server" ]]; then
  exec "$wine_run" "$@"
fi
if [[ ! -x "$server" ]]; then
  echo "with_server.sh: $server is not an executable reference server" >&2
  exit 1
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/dollhouse-e2e-server.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT
# start_server LOG ARGS...: starts the server in the background; sets `port` to where it listens.
start_server() {
  local log=$1
  shift
  : >"$log"
  "$server" --listen 127.0.0.1:0 "$@" >/dev/null 2>>"$log" &
  pids+=("$!")
  port=
  for ((i = 0; i < kServerStartSeconds * 10; i++)); do
    port=$(sed -nE 's/.*listening on [^ ]*127\.0\.0\.1:([0-9]+).*/\1/p' "$log" | head -n 1)
    [[ -n "$port" ]] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    echo "with_server.sh: the reference server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
}

start_server "$dir/server.log" --database "$dir/server.db"
export DOLLHOUSE_TEST_SERVER_URL="http://127.0.0.1:$port"

# The same server over HTTPS with a certificate from a throwaway CA that no certificate store
# trusts: the daemon reaches it only with DOLLHOUSE_TELEMETRY_CA_FILE naming that CA.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Dollhouse test CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.pem" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/server.key" \
  -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
  -CAcreateserial -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
start_server "$dir/tls-server.log" --database "$dir/tls-server.db" \
  --tls-cert "$dir/server.pem" --tls-key "$dir/server.key"
export DOLLHOUSE_TEST_TLS_SERVER_URL="https://localhost:$port"
# Wine's drive Z: is the Linux root.
export DOLLHOUSE_TEST_CA_FILE="Z:${dir//\//\\}\\ca.pem"
set +e
"$wine_run" "$@"
rc=$?
set -e
exit "$rc"
