#!/bin/sh
# Runs libFuzzer targets for a number of executions each, starting from the
# committed seed corpus, and prints libFuzzer's final statistics.
#   fuzz/run.sh BUILD_DIR RUNS [TARGET...]      (default: every built target)
# New interesting inputs go to ${FUZZ_WORK:-/tmp/lupi-fuzz}/<target>/ (not
# committed); crashes are written to fuzz/crashes/<target>/ for replay.
set -eu
build=$1 runs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
work=${FUZZ_WORK:-/tmp/lupi-fuzz}
if [ $# -eq 0 ]; then
	set -- $(cd "$build/fuzz" && ls fuzz-* | grep -v '\.p$' | sed 's/^fuzz-//')
fi
status=0
for t in "$@"; do
	mkdir -p "$work/$t"
	echo "== $t: $runs runs"
	if ! OPENBLAS_NUM_THREADS=1 "$build/fuzz/fuzz-$t" -runs="$runs" \
		-max_len=4096 -timeout="${FUZZ_TIMEOUT:-60}" -rss_limit_mb=2560 \
		-print_final_stats=1 -report_slow_units=100000 \
		-artifact_prefix="$here/crashes/$t/" \
		"$work/$t" "$here/corpus/$t" >"$work/$t.log" 2>&1; then
		echo "   FINDING: see $work/$t.log and $here/crashes/$t/"
		status=1
	fi
	grep -E '^(#[0-9]+[[:space:]]+DONE|stat::|Done)' "$work/$t.log" || tail -5 "$work/$t.log"
done
exit $status
