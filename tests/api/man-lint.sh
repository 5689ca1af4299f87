#!/bin/sh
# Usage: man-lint.sh PAGE...  Each man page renders with no groff warning.
# Exit 77 (skipped) when groff is not installed.
command -v groff >/dev/null 2>&1 || { echo "groff not installed" >&2; exit 77; }
status=0
for page in "$@"; do
	out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	if [ -n "$out" ]; then
		printf '%s:\n%s\n' "$page" "$out" >&2
		status=1
	fi
done
exit $status
