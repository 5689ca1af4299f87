#!/bin/sh
# Usage: readme-quickstart.sh README.md BUILD_DIR SOURCE_DIR
# The C quick start in the README must compile warning-free and run.
set -eu
readme=$1 build=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/ { on = 1; next } /^```$/ { if (on) exit } on' "$readme" >"$tmp/quick.c"
lines=$(wc -l <"$tmp/quick.c")
[ "$lines" -gt 5 ] || { echo "no C block found in $readme" >&2; exit 1; }
[ "$lines" -lt 40 ] || { echo "the quick start has $lines lines (limit 40)" >&2; exit 1; }
cc -std=c99 -Wall -Wextra -Werror -I"$src/include" -o "$tmp/quick" "$tmp/quick.c" \
	-L"$build/lib" -llupi
cd "$tmp"
LD_LIBRARY_PATH="$build/lib" ./quick
[ -s student.lupi ] || { echo "the quick start did not save student.lupi" >&2; exit 1; }
