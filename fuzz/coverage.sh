#!/bin/sh
# Source-based line coverage of a fuzz target's corpus (clang + llvm-cov):
# builds the replay driver with -fprofile-instr-generate, replays the given
# directories (default: the committed corpus) and reports the library
# sources the target exists for (fuzz/targets.txt).
#   fuzz/coverage.sh TARGET [DIR...]
set -eu
t=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "$root/fuzz/corpus/$t"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
blas=$(pkg-config --cflags openblas 2>/dev/null || true)
# shellcheck disable=SC2086
clang -O1 -g -fprofile-instr-generate -fcoverage-mapping -std=c11 \
	-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DLUPI_HAVE_OPENBLAS_THREADS \
	$blas -I"$root/include" -I"$root/lib" -o "$tmp/replay" \
	"$root/fuzz/fuzz-$t.c" "$root/fuzz/fuzz_common.c" "$root/fuzz/replay.c" \
	"$root"/lib/core/*.c "$root"/lib/data/*.c "$root"/lib/model/*.c \
	"$root"/lib/distill/*.c -lopenblas -lz -lm -lpthread
LLVM_PROFILE_FILE="$tmp/p.profraw" OPENBLAS_NUM_THREADS=1 \
	"$tmp/replay" "$@" | tail -n 1
llvm-profdata merge -o "$tmp/p.profdata" "$tmp/p.profraw"
srcs=$(grep "^$t " "$root/fuzz/targets.txt" | cut -d' ' -f2- |
	tr ' ' '\n' | sed "s|^|$root/lib/|")
# shellcheck disable=SC2086
llvm-cov report ${COV_FUNCTIONS:+-show-functions} "$tmp/replay" \
	-instr-profile="$tmp/p.profdata" $srcs
