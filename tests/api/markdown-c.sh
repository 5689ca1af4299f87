#!/bin/sh
# Usage: markdown-c.sh FILE.md MAX_LINES BUILD_DIR SOURCE_DIR
# The first ```c block of a document must compile warning-free against the
# built library, stay under MAX_LINES lines, and run successfully. Data the
# document makes with its own shell session (a gen.awk here-document and
# "$ awk ... > FILE.csv" lines) is made first, the way a reader would.
set -eu
doc=$1 max=$2 build=$3 src=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/ { on = 1; next } /^```$/ { if (on) exit } on' "$doc" >"$tmp/prog.c"
lines=$(wc -l <"$tmp/prog.c")
[ "$lines" -gt 5 ] || { echo "no C block found in $doc" >&2; exit 1; }
[ "$lines" -lt "$max" ] || { echo "$doc: the C block has $lines lines (limit $max)" >&2; exit 1; }
cc -std=c99 -Wall -Wextra -Werror -I"$src/include" -o "$tmp/prog" "$tmp/prog.c" \
	-L"$build/lib" -llupi -lm
cd "$tmp"
awk '/^\$ cat > gen.awk <</ { on = 1; next } /^EOF$/ { on = 0 } on' "$doc" >gen.awk
if [ -s gen.awk ]; then
	sed -n 's/^\$ \(awk .* > [a-z]*\.csv\)$/\1/p' "$doc" >make-data.sh
	sh make-data.sh
fi
LD_LIBRARY_PATH="$build/lib" ./prog
