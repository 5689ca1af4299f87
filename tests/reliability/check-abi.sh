#!/bin/sh
# Usage: check-abi.sh liblupi.so.0 BASELINE.abi INCLUDE_DIR
# Compares the built library with the stored ABI baseline (abi/, made with
# abidw, see doc/reliability.md). Only types reachable from the public
# header count. Exit 0 when compatible, 1 when abidiff reports an
# incompatible change (or, for a release, any change: set ABI_STRICT=1),
# 77 (skipped) without abidiff or without a baseline.
set -u
lib=$1 baseline=$2 headers=$3
if ! command -v abidiff >/dev/null 2>&1; then
	echo "abidiff not found (apt-get install abigail-tools): skipped"
	exit 77
fi
if [ ! -f "$baseline" ]; then
	echo "no ABI baseline at $baseline: skipped"
	exit 77
fi
# Without DWARF (a release build) abidiff sees the ELF symbols only.
if command -v readelf >/dev/null 2>&1 &&
	! readelf -S "$lib" 2>/dev/null | grep -q '\.debug_info'; then
	echo "note: $lib has no debug info: only exported symbols are compared"
	echo "      (types too with --buildtype=debugoptimized or debug)"
fi
abidiff --no-corpus-path --headers-dir2 "$headers" --drop-private-types \
	--no-added-syms "$baseline" "$lib"
status=$?
# abidiff's status is a bit field: 1 error, 2 usage, 4 ABI change,
# 8 incompatible change.
if [ $((status & 3)) -ne 0 ]; then
	echo "abidiff failed to run (status $status)" >&2
	exit 1
fi
if [ $((status & 8)) -ne 0 ]; then
	echo "incompatible ABI change against $baseline" >&2
	exit 1
fi
if [ $((status & 4)) -ne 0 ] && [ "${ABI_STRICT:-0}" = 1 ]; then
	echo "ABI changed against $baseline (ABI_STRICT=1)" >&2
	exit 1
fi
echo "ABI compatible with $baseline"
exit 0
