#!/bin/sh
# Installs the build into a temp prefix and uses it the way a user's project would: a C++ app
# through find_package(DollhouseTelemetry), a C program through pkg-config. Both run with
# DO_NOT_TRACK=1 and must exit 0. Sanitizer settings in the environment (ASAN_OPTIONS, ...) reach
# both apps, as they reach every other test.
#
# usage: packaging_test.sh BUILD_DIR APP_SOURCE_DIR CMAKE C_COMPILER SANITIZE(ON|OFF)
set -eu
build=$1
app=$2
cmake=$3
cc=$4
sanitize=$5
tmp=$(mktemp -d /tmp/dh-pkg-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

"$cmake" --install "$build" --prefix "$prefix" > "$tmp/install.log"
for f in bin/dollhouse-telemetryd bin/dollhousectl bin/dollhouse-telemetry-server \
    include/dollhouse/telemetry.hpp include/dollhouse/telemetry.h \
    share/dollhouse-telemetry/systemd/dollhouse-telemetry.socket \
    share/dollhouse-telemetry/systemd/dollhouse-telemetry.service \
    share/dollhouse-telemetry/launchd/com.dollhousemcp.telemetry.plist.in; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f was not installed" >&2; exit 1; }
done
grep -qx "ExecStart=$prefix/bin/dollhouse-telemetryd" \
  "$prefix/share/dollhouse-telemetry/systemd/dollhouse-telemetry.service" ||
  { echo "FAIL: ExecStart does not name the installed daemon" >&2; exit 1; }

flags=""
[ "$sanitize" = ON ] && flags="-fsanitize=address,undefined"
"$cmake" -S "$app" -B "$tmp/app" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$flags" > "$tmp/configure.log" ||
  { cat "$tmp/configure.log"; exit 1; }
"$cmake" --build "$tmp/app" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
DO_NOT_TRACK=1 "$tmp/app/packaging_app"

pc_dir=$(dirname "$(find "$prefix" -name dollhouse-telemetry.pc | head -n1)")
pkg=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags --libs dollhouse-telemetry)
# shellcheck disable=SC2086 # pkg-config output is a list of flags
"$cc" -std=c11 -Wall -Werror -o "$tmp/c_app" "$app/c_app.c" $flags $pkg
"$tmp/c_app"
echo "OK: installed, and consumed through find_package and pkg-config"
