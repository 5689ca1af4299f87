#!/bin/sh
# Regenerates abi/liblupi.so.0.abi, the baseline that
# tests/reliability/check-abi.sh compares the built library with. Run from
# the source root after a deliberate, compatible ABI addition (a release):
#   abi/regenerate.sh [BUILD_DIR]     (default build-abi, made if missing)
# The library is built with debug info (-g) so that types are recorded;
# only types reachable from include/lupi.h are kept.
set -eu
build=${1:-build-abi}
if [ ! -d "$build" ]; then
	meson setup "$build" --buildtype=debugoptimized -Dtests=false \
		-Dexamples=false -Dtools=false -Dbench=false
fi
ninja -C "$build"
abidw --no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed \
	--headers-dir include --drop-private-types \
	--out-file abi/liblupi.so.0.abi "$build/lib/liblupi.so.0"
echo "wrote abi/liblupi.so.0.abi"
