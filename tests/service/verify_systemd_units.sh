#!/bin/sh
# Verifies the systemd user units with `systemd-analyze --user verify`, ExecStart pointed at the
# built daemon. systemd-analyze exits 0 on unknown keys and bad values (it only warns), so any
# line naming one of our units fails the test, as does a non-zero exit. Lines that do not name
# our units are printed but ignored: in containers the user manager's own setup can warn about
# things unrelated to these files (missing cgroup controllers, no D-Bus).
#
# usage: verify_systemd_units.sh SOURCE_DIR BIN_DIR
set -eu
src=$1
bin=$2
tmp=$(mktemp -d /tmp/dh-units-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -m 700 "$tmp/units" "$tmp/runtime"
cp "$src/systemd/dollhouse-telemetry.socket" "$tmp/units/"
sed "s|@BINDIR@|$bin|g" "$src/systemd/dollhouse-telemetry.service.in" \
  > "$tmp/units/dollhouse-telemetry.service"
if grep -q '@[A-Z_]*@' "$tmp/units/dollhouse-telemetry.service"; then
  echo "FAIL: a placeholder was left in the service unit" >&2
  exit 1
fi

set +e
out=$(XDG_RUNTIME_DIR="$tmp/runtime" systemd-analyze --user verify \
  "$tmp/units/dollhouse-telemetry.socket" "$tmp/units/dollhouse-telemetry.service" 2>&1)
rc=$?
set -e
[ -n "$out" ] && printf '%s\n' "$out"
ours=$(printf '%s\n' "$out" | grep 'dollhouse-telemetry\.\(service\|socket\)' || true)
if [ $rc -ne 0 ] || [ -n "$ours" ]; then
  echo "FAIL: systemd-analyze exit $rc; about our units: ${ours:-nothing}" >&2
  exit 1
fi
echo "OK: systemd-analyze --user verify found nothing to say about the units"
