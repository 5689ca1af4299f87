#!/bin/sh
# Usage: cmake-package.sh BUILD_DIR CMAKE_PROJECT_DIR
# Installs the build into a temporary prefix (as tests/api/install-and-run.sh
# does), then configures, builds and runs the CMake project against it
# through find_package(liblupi) and CMAKE_PREFIX_PATH only.
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp/root" --quiet >/dev/null
config=$(find "$tmp/root" -name liblupiConfig.cmake | head -n 1)
[ -n "$config" ] || { echo "liblupiConfig.cmake was not installed" >&2; exit 1; }
pcdir=$(dirname "$(find "$tmp/root" -name liblupi.pc | head -n 1)")
[ "$(cd "$(dirname "$config")" && pwd)" = "$(cd "$pcdir/../cmake/liblupi" && pwd)" ] ||
	{ echo "liblupiConfig.cmake is not in LIBDIR/cmake/liblupi, next to liblupi.pc" >&2; exit 1; }
prefix=$(meson introspect "$build" --buildoptions |
	tr ',' '\n' | grep -A3 '"name": "prefix"' | sed -n 's/.*"value": "\(.*\)".*/\1/p' | head -n 1)
[ -n "$prefix" ] || prefix=/usr/local
prefix="$tmp/root$prefix" # staged: the files find it from their own location
cmake -S "$src" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_BUILD_TYPE=Release --log-level=WARNING >"$tmp/cmake.log" 2>&1 ||
	{ cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$tmp/build" >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; exit 1; }
# CMake's build-tree rpath names the staged libdir: no LD_LIBRARY_PATH
"$tmp/build/host-cxx"
[ ! -e "$tmp/build/host-static" ] || "$tmp/build/host-static"
# a newer major version than installed is refused
cat >"$tmp/too-new.cmake" <<'CM'
find_package(liblupi 99 QUIET)
if(liblupi_FOUND)
  message(FATAL_ERROR "liblupi 99 found")
endif()
CM
cmake -DCMAKE_PREFIX_PATH="$prefix" -P "$tmp/too-new.cmake"
