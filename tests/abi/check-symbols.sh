#!/bin/sh
# Usage: check-symbols.sh liblupi.so liblupi.map lupi.h
# Fails when the shared library's exported symbols, the version script and
# the header's LUPI_API functions are not the same set.
set -eu
lib=$1 map=$2 header=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ { sub(/@.*/, "", $3); print $3 }' |
	grep -v '^LUPI_0' | sort -u >"$tmp/exported"
grep -E '^[[:space:]]+lupi_[a-z0-9_]+;' "$map" | tr -d ' \t;' | sort -u >"$tmp/map"
# Declarations: LUPI_API up to the first '(' names the function.
tr '\n' ' ' <"$header" | grep -oE 'LUPI_API[^;(]*\(' |
	grep -oE 'lupi_[a-z0-9_]+[[:space:]]*\($' | tr -d ' (' | sort -u >"$tmp/header"
status=0
if ! diff -u "$tmp/map" "$tmp/exported"; then
	echo "exported symbols differ from $map" >&2
	status=1
fi
if ! diff -u "$tmp/map" "$tmp/header"; then
	echo "LUPI_API declarations in $header differ from $map" >&2
	status=1
fi
[ "$(wc -l <"$tmp/map")" -gt 0 ] || { echo "no symbols in $map" >&2; status=1; }
exit $status
