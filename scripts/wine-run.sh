#!/usr/bin/env bash
# Runs a Windows program under Wine for the cross-compiled tests (CMAKE_CROSSCOMPILING_EMULATOR).
# The Wine prefix is WINEPREFIX when set, else one per user under the build's temp directory;
# it is created on first use (wineboot), which takes a few seconds once.
set -euo pipefail
export WINEPREFIX=${WINEPREFIX:-${TMPDIR:-/tmp}/dollhouse-wine-$(id -u)}
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono or Gecko installers: nothing here needs .NET or a browser engine.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
wine=$(command -v wine || command -v wine64 || true)
if [[ -z "$wine" ]]; then
  echo "wine-run.sh: wine is not installed (apt-get install -y wine wine64)" >&2
  exit 127
fi
if [[ ! -f "$WINEPREFIX/system.reg" ]]; then
  # Tests start in parallel: one of them creates the prefix, the others wait for it.
  mkdir -p "$WINEPREFIX"
  flock "$WINEPREFIX/.init.lock" bash -c \
    '[[ -f "$WINEPREFIX/system.reg" ]] || "$1" wineboot --init >/dev/null 2>&1 || true' _ "$wine"
fi
exec "$wine" "$@"
