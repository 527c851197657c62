#!/usr/bin/env bash
# Installs every Debian 12 package the project needs to build, test and run.
# Safe to run again; it only installs what is missing.
#
#   scripts/setup.sh            the Linux build, its tests and the demo
#   scripts/setup.sh --windows  also the Windows cross-build and Wine to run its tests
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3
  libboost-dev libboost-system-dev libssl-dev zlib1g-dev
  libsqlite3-dev sqlite3 nlohmann-json3-dev libspdlog-dev libcli11-dev libre2-dev
  libgtest-dev libgmock-dev openssl
  libpq-dev postgresql chromium systemd
  # clang with its sanitizer and libFuzzer runtimes: the fuzz targets (scripts/fuzz.sh)
  clang libclang-rt-14-dev
)
# The Windows build: MinGW-w64 with POSIX threads (std::thread) and Wine to run its tests.
# Installed without Wine's recommended extras (fonts, sound, Mono, Gecko): tests need none.
# zlib for MinGW comes as a Debian package; SQLite and RE2 do not, so scripts/windows-deps.sh
# fetches their Debian source packages and the Windows build compiles them: dpkg-dev unpacks
# them, tcl generates SQLite's amalgamation, perl, python3-six and unicode-data regenerate
# RE2's Unicode tables (Debian's source package leaves them out).
windows_packages=(g++-mingw-w64-x86-64-posix wine wine64 libz-mingw-w64-dev
  dpkg-dev tcl perl python3-six unicode-data openssl)
with_windows=false
[[ "${1:-}" == "--windows" ]] && with_windows=true

missing_of() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}
mapfile -t missing < <(missing_of "${packages[@]}")
missing_windows=()
$with_windows && mapfile -t missing_windows < <(missing_of "${windows_packages[@]}")

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
updated=false
apt_install() {
  echo "setup: installing ${*/--no-install-recommends/}"
  $updated || "${sudo_cmd[@]}" apt-get update -qq
  updated=true
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "$@" >/dev/null
}
((${#missing[@]})) && apt_install "${missing[@]}"
((${#missing_windows[@]})) && apt_install --no-install-recommends "${missing_windows[@]}"
# Node.js (Debian's nodejs 18 is enough) for the Node package and its tests, and the package's
# one development dependency, typescript, from the npm registry for the check of its declarations.
command -v node >/dev/null || apt_install nodejs
command -v npm >/dev/null || apt_install npm
node_package="$(dirname "$0")/../clientlib/node"
if [[ ! -x "$node_package/node_modules/typescript/bin/tsc" ]]; then
  echo "setup: installing typescript for clientlib/node (npm)"
  npm install --prefix "$node_package" --no-package-lock --no-audit --no-fund --omit=optional \
    >/dev/null
fi
# The SQLite and RE2 source packages for the Windows build, into the cache the build reads.
$with_windows && "$(dirname "$0")/windows-deps.sh"
echo "setup: all build dependencies are installed"
