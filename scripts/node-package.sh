#!/usr/bin/env bash
# Stages and packs the npm packages of the Node client into OUT_DIR (never into the checkout):
#   @dollhousemcp/telemetry            from clientlib/node
#   @dollhousemcp/telemetry-<platform> from clientlib/node/platforms/<platform>, with
#                                      dollhouse-telemetryd and dollhousectl copied from BIN_DIR
# Usage: scripts/node-package.sh --out OUT_DIR [--bin-dir BIN_DIR] [--platform P]... [--no-strip]
#   P is linux-x64, win32-x64, darwin-x64 or darwin-arm64 (default: linux-x64). A platform
#   whose two binaries are not in BIN_DIR is skipped with a message (the win32 package needs
#   the Windows build's dollhouse-telemetryd.exe and dollhousectl.exe). Prints one tarball path
#   per line on stdout. No network is used.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$here/clientlib/node"

out=""
bin_dir=""
platforms=()
strip=true
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --bin-dir) bin_dir="$2"; shift 2 ;;
    --platform) platforms+=("$2"); shift 2 ;;
    --no-strip) strip=false; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "node-package.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$out" ]] || { echo "node-package.sh: --out OUT_DIR is required" >&2; exit 2; }
[[ ${#platforms[@]} -gt 0 ]] || platforms=(linux-x64)
mkdir -p "$out"
out="$(cd "$out" && pwd)"
case "$out/" in
  "$here"/*) [[ "$out" == "$here"/build* ]] || {
    echo "node-package.sh: OUT_DIR must be outside the sources (a build directory is fine)" >&2
    exit 2; } ;;
esac

stage="$(mktemp -d "$out/stage.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

pack() {  # pack DIR: packs the staged package in DIR into $out, prints the tarball's path
  local name
  name="$(cd "$1" && npm pack --offline --ignore-scripts --silent --pack-destination "$out")"
  echo "$out/$name"
}

main="$stage/telemetry"
mkdir -p "$main"
cp -R "$pkg/package.json" "$pkg/index.mjs" "$pkg/index.d.mts" "$pkg/src" "$pkg/bin" "$main/"
pack "$main"

for platform in "${platforms[@]}"; do
  def="$pkg/platforms/$platform"
  [[ -f "$def/package.json" ]] || { echo "node-package.sh: no platform $platform" >&2; exit 2; }
  ext=""
  [[ "$platform" == win32-* ]] && ext=".exe"
  missing=()
  for program in dollhouse-telemetryd dollhousectl; do
    [[ -n "$bin_dir" && -f "$bin_dir/$program$ext" ]] || missing+=("$program$ext")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "node-package.sh: skipped $platform: ${missing[*]} not in ${bin_dir:-(no --bin-dir)}" >&2
    continue
  fi
  dir="$stage/$platform"
  mkdir -p "$dir/bin"
  cp "$def/package.json" "$dir/"
  for program in dollhouse-telemetryd dollhousectl; do
    cp "$bin_dir/$program$ext" "$dir/bin/"
    chmod 0755 "$dir/bin/$program$ext"
    # Symbols are for the build tree; the package is a third of the size without them.
    if [[ -z "$ext" ]] && $strip && command -v strip >/dev/null; then strip "$dir/bin/$program"; fi
  done
  pack "$dir"
done
