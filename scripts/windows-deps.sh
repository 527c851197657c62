#!/usr/bin/env bash
# Fetches the Debian source packages of SQLite (sqlite3) and RE2 (re2) of this Debian release
# for the Windows build, which compiles them for MinGW-w64 (cmake/WindowsDependencies.cmake).
# Debian ships neither for MinGW. Run by `scripts/setup.sh --windows`; safe to run again: a
# version already in the cache is not fetched again.
#
# Only Debian's archive is used, through apt: the deb-src entries are the machine's own `deb`
# entries (same mirrors, suites and Signed-By keyring) written into a temporary apt
# configuration that only these apt-get calls read (-o Dir::Etc::...), with their own package
# lists and cache, so the machine's apt state is untouched. apt checks the archive's signature
# of the source index and the hashes of every file it fetches; unauthenticated sources are
# refused.
#
# The cache: DOLLHOUSE_WINDOWS_DEPS_DIR, default $XDG_CACHE_HOME/dollhouse/windows-deps (that is
# ~/.cache/dollhouse/windows-deps), outside the checkout so that every clone and build directory
# of this user shares one download and one build of each version. For each package it holds
#   src/<package>-<version>/   the unpacked Debian source (patches applied by dpkg-source)
#   src/<package>.version      the version the build uses
set -euo pipefail
cd "$(dirname "$0")/.."
deps_dir=${DOLLHOUSE_WINDOWS_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dollhouse/windows-deps}
packages=(sqlite3 re2)

apt_dir=$(mktemp -d "${TMPDIR:-/tmp}/dollhouse-apt-src.XXXXXX")
trap 'rm -rf "$apt_dir"' EXIT
chmod 0755 "$apt_dir"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"

# deb-src twins of the machine's deb entries, deb822 and one-line styles.
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
  sed -E 's/^Types:.*$/Types: deb-src/' "$f" >"$apt_dir/sources.list.d/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f "$f" ]] || continue
  sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$f" >"$apt_dir/sources.list.d/$(basename "$f")"
done
shopt -u nullglob

apt_opts=(
  -o Dir::Etc::SourceList=/dev/null
  -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o Acquire::AllowInsecureRepositories=false
  -o Acquire::AllowDowngradeToInsecureRepositories=false
  -o APT::Get::AllowUnauthenticated=false
  -o Debug::NoLocking=true
)
echo "windows-deps: reading Debian's source index"
apt-get "${apt_opts[@]}" -qq update

mkdir -p "$deps_dir/src"
for package in "${packages[@]}"; do
  version=$(apt-cache "${apt_opts[@]}" showsrc "$package" |
    awk -v p="$package" '$1 == "Package:" { ok = ($2 == p) } ok && $1 == "Version:" { print $2 }' |
    sort -V | tail -n 1)
  if [[ -z "$version" ]]; then
    echo "windows-deps: Debian's archive has no source package $package" >&2
    exit 1
  fi
  upstream=${version#*:}
  upstream=${upstream%-*}
  target="$deps_dir/src/$package-$version"
  if [[ -d "$target" && "$(cat "$deps_dir/src/$package.version" 2>/dev/null)" == "$version" ]]; then
    echo "windows-deps: $package $version is in $deps_dir"
    continue
  fi
  echo "windows-deps: fetching the source package $package $version"
  work="$apt_dir/work-$package"
  mkdir -p "$work"
  # _apt (apt's download sandbox user) must be able to write where the files land.
  chmod 0777 "$work"
  (cd "$work" && apt-get "${apt_opts[@]}" -qq source "$package=$version" >/dev/null)
  rm -rf "$target"
  mv "$work/$package-$upstream" "$target"
  printf '%s\n' "$version" >"$deps_dir/src/$package.version"
done
echo "windows-deps: sources are in $deps_dir/src"
