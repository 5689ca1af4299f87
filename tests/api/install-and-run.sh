#!/bin/sh
# Usage: install-and-run.sh BUILD_DIR PROGRAM.c
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Builds what `meson test` did not need (the static library, the tool).
meson install -C "$build" --destdir "$tmp/root" --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	tr ',' '\n' | grep -A3 '"name": "prefix"' | sed -n 's/.*"value": "\(.*\)".*/\1/p' | head -n 1)
[ -n "$prefix" ] || prefix=/usr/local
root="$tmp/root$prefix"
pcdir=$(dirname "$(find "$root" -name liblupi.pc | head -n 1)")
[ -f "$pcdir/liblupi.pc" ] || { echo "liblupi.pc was not installed" >&2; exit 1; }
export PKG_CONFIG_PATH="$pcdir"
flags=$(pkg-config --define-variable=prefix="$root" --cflags --libs liblupi)
libdir=$(pkg-config --define-variable=prefix="$root" --variable=libdir liblupi)
[ -f "$root/include/lupi.h" ] || { echo "lupi.h was not installed" >&2; exit 1; }
ls "$libdir"/liblupi.so.0 "$libdir"/liblupi.a >/dev/null
# shellcheck disable=SC2086
cc -std=c99 -Wall -Wextra -Werror -o "$tmp/api-program" "$src" $flags
LD_LIBRARY_PATH="$libdir" "$tmp/api-program" train "$tmp/student.lupi" "$tmp/expected.bin"
LD_LIBRARY_PATH="$libdir" "$tmp/api-program" predict "$tmp/student.lupi" "$tmp/expected.bin"
