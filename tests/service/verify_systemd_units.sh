#!/bin/sh
# Verifies the systemd user units with `systemd-analyze --user verify`, ExecStart pointed at the
# built daemon. systemd-analyze exits 0 on unknown keys and bad values (it only warns), so any
# output at all fails the test, as does a non-zero exit. First it checks that it would notice:
# a copy of the service unit with an unknown key must make systemd-analyze say something.
#
# usage: verify_systemd_units.sh SOURCE_DIR BIN_DIR
set -eu
src=$1
bin=$2
tmp=$(mktemp -d /tmp/dh-units-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -m 700 "$tmp/units" "$tmp/runtime"
cp "$src/systemd/dollhouse-telemetry.socket" "$tmp/units/"
# Escape what sed treats specially in a replacement (\, &, and the | delimiter).
bin_escaped=$(printf '%s\n' "$bin" | sed 's/[\\&|]/\\&/g')
sed "s|@BINDIR@|$bin_escaped|g" "$src/systemd/dollhouse-telemetry.service.in" \
  > "$tmp/units/dollhouse-telemetry.service"
if grep -q '@[A-Z_]*@' "$tmp/units/dollhouse-telemetry.service"; then
  echo "FAIL: a placeholder was left in the service unit" >&2
  exit 1
fi

verify() {
  XDG_RUNTIME_DIR="$tmp/runtime" systemd-analyze --user verify "$@" 2>&1
}

# The check must be able to fail: an unknown key has to be reported.
mkdir -m 700 "$tmp/bad"
cp "$tmp/units/dollhouse-telemetry.socket" "$tmp/bad/"
sed 's|^\[Service\]$|[Service]\nNoSuchSetting=yes|' "$tmp/units/dollhouse-telemetry.service" \
  > "$tmp/bad/dollhouse-telemetry.service"
bad=$(verify "$tmp/bad/dollhouse-telemetry.socket" "$tmp/bad/dollhouse-telemetry.service" || true)
if ! printf '%s\n' "$bad" | grep -q NoSuchSetting; then
  echo "FAIL: systemd-analyze did not report an unknown key, so this check proves nothing" >&2
  exit 1
fi

set +e
out=$(verify "$tmp/units/dollhouse-telemetry.socket" "$tmp/units/dollhouse-telemetry.service")
rc=$?
set -e
if [ $rc -ne 0 ] || [ -n "$out" ]; then
  printf '%s\n' "$out" >&2
  echo "FAIL: systemd-analyze exit $rc, and the output above (it must say nothing)" >&2
  exit 1
fi
echo "OK: systemd-analyze --user verify found nothing to say about the units (and does report an unknown key)"
