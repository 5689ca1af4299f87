#!/bin/sh
# End-to-end test of the lupi command-line tool: every subcommand, exit
# codes, outputs, error messages, and that the options of library options
# take their ranges and defaults from the library.
# usage: test-tool.sh path/to/lupi path/to/tool-helper
set -u
LUPI=${1:?usage: test-tool.sh path/to/lupi path/to/tool-helper}
HELPER=${2:?usage: test-tool.sh path/to/lupi path/to/tool-helper}
T=$(mktemp -d "${TMPDIR:-/tmp}/lupi-tool.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
passed=0
failed=0

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# run EXPECTED_RC NAME CMD...: runs CMD with stdout in $T/out, stderr in
# $T/err and checks the exit code
run() {
	want=$1 name=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok
	else
		fail "$name: exit $rc, expected $want"
		sed 's/^/  stderr: /' "$T/err" | head -5
	fi
}

# has FILE NAME PATTERN: FILE contains a line matching the regex
has() {
	if grep -q -e "$3" "$1"; then ok; else
		fail "$2: '$3' not in $(basename "$1")"
		sed 's/^/  | /' "$1" | head -8
	fi
}

# ---- data: 240 samples, X = 4 noisy columns, X* = 3 clean ones, 3 classes
awk 'BEGIN {
	srand(7); print "a,b,c,d,p1,p2,p3,y"
	for (i = 0; i < 240; i++) {
		p1 = 2 * rand() - 1; p2 = 2 * rand() - 1; p3 = 2 * rand() - 1
		y = p1 + p2 > 0 ? 1 : 0; if (p3 > 0.4) y = 2
		printf "%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%d\n",
			p1 + rand() - 0.5, p2 + rand() - 0.5, p3 + rand() - 0.5,
			rand(), p1, p2, p3, y
	}
}' >"$T/d.csv"
n=240
cut -d, -f1-7 "$T/d.csv" >"$T/nolabel.csv"
# LIBSVM copy of the same samples
awk -F, 'NR > 1 { printf "%s", $8; for (i = 1; i <= 7; i++)
	printf " %d:%s", i, $i; print "" }' "$T/d.csv" >"$T/d.libsvm"
# a bad number on line 17 (the header is line 1), column 3
awk -F, 'BEGIN { OFS = "," } NR == 17 { $3 = "abc" } { print }' \
	"$T/d.csv" >"$T/bad.csv"

# a tiny IDX pair: 40 images of 4x4 bytes (the class is the brighter half)
# and their labels; with --pool 2, X is 2x2 block means and X* the image
awk 'BEGIN {
	srand(5); printf "\\000\\000\\010\\003\\000\\000\\000\\050"
	printf "\\000\\000\\000\\004\\000\\000\\000\\004"
	for (i = 0; i < 40; i++) for (p = 0; p < 16; p++)
		printf "\\%03o", int(rand() * 100) + ((p % 4 < 2) == i % 2) * 150
}' >"$T/img.esc"
awk 'BEGIN { printf "\\000\\000\\010\\001\\000\\000\\000\\050"
	for (i = 0; i < 40; i++) printf "\\%03o", i % 2 }' >"$T/lab.esc"
printf "$(cat "$T/img.esc")" >"$T/images-idx3-ubyte"
printf "$(cat "$T/lab.esc")" >"$T/labels-idx1-ubyte"
head -121 "$T/d.csv" >"$T/train.csv"
# the samples of classes 0 and 1 only: a file that lacks the top class
awk -F, 'NR == 1 || $8 != 2' "$T/d.csv" >"$T/no2.csv"
# every 4th sample without X* (empty privileged cells): 60 of 240
awk -F, 'BEGIN { OFS = "," } NR > 1 && NR % 4 == 0 { $5 = $6 = $7 = "" }
	{ print }' "$T/d.csv" >"$T/noxs.csv"
# labels 0/1 for a binary task
awk -F, 'BEGIN { OFS = "," } NR > 1 && $8 == 2 { $8 = 1 } { print }' \
	"$T/d.csv" >"$T/bin.csv"
{ head -1 "$T/d.csv"; tail -120 "$T/d.csv"; } >"$T/test.csv"

FAST="--epochs 30 --batch 32 --lr 0.01 --hidden 16"

# ---- help and version
run 0 "--help" "$LUPI" --help
has "$T/out" "--help" "Exit status"
# the commands --help lists (from the tool's one command table): each has
# its help and a handler, and none of the known commands is missing
sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' "$T/out" \
	>"$T/commands"
listed=$(tr '\n' ' ' <"$T/commands")
for c in demo teacher distill compare eval predict info help; do
	grep -qx "$c" "$T/commands" && ok ||
		fail "--help does not list $c (lists: $listed)"
done
for c in $listed; do
	run 0 "$c --help" "$LUPI" "$c" --help
	has "$T/out" "$c --help" "^Usage: lupi $c"
	run 0 "help $c" "$LUPI" help "$c"
	has "$T/out" "help $c" "^Usage: lupi $c"
done
run 0 "help" "$LUPI" help
has "$T/out" "help" "^Commands:"
run 2 "help unknown" "$LUPI" help frobnicate
has "$T/err" "help unknown" "unknown command 'frobnicate'"
run 0 "--version" "$LUPI" --version
has "$T/out" "--version" "^lupi [0-9]"

# ---- options of library options: range, default and names from the
# library (tool-helper asks it; the tool must print the same)
# lib HANDLE NAME: sets $range, $default and $values of the option
lib() {
	line=$("$HELPER" option "$1" "$2") ||
		{ fail "no library option $2"; return; }
	range=${line#range=}; range=${range%% default=*}
	default=${line#* default=}; default=${default%% values=*}
	values=${line#* values=}
}
# help_of COMMAND OPTION: the help of --OPTION of COMMAND, on one line
help_of() {
	"$LUPI" "$1" --help | awk -v o="--$2 " '
		/^ +-/ && index($0, o) { on = 1; printf "%s", $0; next }
		on && /^                             / {
			sub(/^ +/, " "); printf "%s", $0; next }
		{ on = 0 }' | tr -s ' '
}
# has_line FILE NAME LINE: FILE has the line LINE (a fixed string)
has_line() {
	if grep -qxF -e "$3" "$1"; then ok; else
		fail "$2: line '$3' not in $(basename "$1")"
		sed 's/^/  | /' "$1" | head -8
	fi
}
# has_text NAME TEXT FIXED: TEXT contains the fixed string FIXED
has_text() {
	case $2 in *"$3"*) ok ;; *) fail "$1: '$3' not in '$2'" ;; esac
}
lib loss temperature
has_text "temperature default" "$(help_of distill temperature)" "[$default]"
has_text "temperature range" "$(help_of distill temperature)" "$range"
[ "$default" = 1 ] && ok || fail "the library's temperature default is $default"
lib model lr
has_text "lr help" "$(help_of teacher lr)" "$range [$default]"
run 2 "lr 0" "$LUPI" teacher "$T/d.csv" -p 5-7 --lr 0
has_line "$T/err" "lr 0" "lupi: --lr: '0' is not a number in $range"
lib model epochs
has_text "epochs help" "$(help_of teacher epochs)" "$range [$default]"
run 2 "epochs 0" "$LUPI" teacher "$T/d.csv" -p 5-7 --epochs 0
has_line "$T/err" "epochs 0" \
	"lupi: --epochs: '0' is not an integer in $range"
lib compare repeats
has_text "seeds help" "$(help_of compare seeds)" "$range [$default]"
run 2 "seeds 0" "$LUPI" compare "$T/d.csv" -p 5-7 --seeds 0
has "$T/err" "seeds 0" "^lupi: --seeds: '0' is not an integer"
lib model optimizer
has_text "optimizer values" "$values" "rmsprop"
has_text "optimizer help" "$(help_of teacher optimizer)" "rmsprop"
run 2 "optimizer unknown" "$LUPI" teacher "$T/d.csv" -p 5-7 --optimizer nope
has "$T/err" "optimizer unknown" \
	"unknown value 'nope'; one of sgd, adam, adamw or rmsprop"
lib reader idx_pool
has_text "pool help" "$(help_of teacher pool)" "$range [$default]"
# the teacher's view is the command's own default (privileged)
has_text "teacher view" "$(help_of teacher view)" "[privileged]"

# ---- usage errors: exit 2
run 2 "no command" "$LUPI"
run 2 "unknown command" "$LUPI" frobnicate
has "$T/err" "unknown command" "unknown command 'frobnicate'"
run 2 "unknown option" "$LUPI" teacher "$T/d.csv" --no-such-option
has "$T/err" "unknown option" "^lupi: unknown option '--no-such-option'"
run 2 "bad value" "$LUPI" teacher "$T/d.csv" --epochs abc
has "$T/err" "bad value" "--epochs"
run 2 "missing argument" "$LUPI" eval "$T/x.lupi"
run 2 "distill without teacher" "$LUPI" distill "$T/d.csv"
# lists: an empty element is a usage error, not skipped
for h in 1,,2 , 1, ,1; do
	run 2 "hidden '$h'" "$LUPI" teacher "$T/d.csv" --hidden "$h"
	has "$T/err" "hidden '$h'" "^lupi: --hidden: empty element in '$h'"
done
run 2 "lambdas 0.5,,1" "$LUPI" compare "$T/d.csv" --lambdas 0.5,,1
has "$T/err" "lambdas 0.5,,1" "^lupi: --lambdas: empty element"
# --threads: the library says its range
run 2 "threads 2000" "$LUPI" teacher "$T/d.csv" --threads 2000
has "$T/err" "threads 2000" "^lupi: --threads: .*2000.*1024"
# --pool: the library's range is 1 to 64, so 65 is a usage error
run 2 "pool 65" "$LUPI" teacher "$T/images-idx3-ubyte" --pool 65 \
	--labels "$T/labels-idx1-ubyte"
has "$T/err" "pool 65" "--pool: '65' is not an integer in \[1, 64\]"
run 2 "pool 0" "$LUPI" teacher "$T/images-idx3-ubyte" --pool 0
# compare trains without a validation part: --valid and --patience would be
# ignored, so they are refused and not in its help
run 2 "compare --valid" "$LUPI" compare "$T/d.csv" -p 5-7 --valid 0.2
has "$T/err" "compare --valid" "unknown option '--valid' for compare"
run 2 "compare --patience" "$LUPI" compare "$T/d.csv" -p 5-7 --patience 3
has "$T/err" "compare --patience" "unknown option '--patience' for compare"
run 0 "compare --help" "$LUPI" compare --help
if grep -q -e "--valid\|--patience" "$T/out"; then
	fail "compare --help lists --valid or --patience"
else
	ok
fi
for c in teacher distill; do
	run 0 "$c --help" "$LUPI" "$c" --help
	has "$T/out" "$c --help" "--valid FRACTION"
	has "$T/out" "$c --help" "--patience N"
done
# --lambda and -T are one-value grids; with the list too, one would be lost
run 2 "compare --lambda --lambdas" "$LUPI" compare "$T/d.csv" -p 5-7 \
	--lambda 0.3 --lambdas 0.5
has "$T/err" "compare --lambda --lambdas" "give --lambda or --lambdas"
run 2 "compare -T --temperatures" "$LUPI" compare "$T/d.csv" -p 5-7 -T 3 \
	--temperatures 1,2
has "$T/err" "compare -T --temperatures" \
	"give --temperature or --temperatures"

# ---- teacher
run 0 "teacher" "$LUPI" teacher "$T/d.csv" --privileged 5-7 $FAST \
	-o "$T/teacher.lupi" --plot "$T/teacher.svg"
[ -s "$T/teacher.lupi" ] && ok || fail "teacher: no model file"
[ -s "$T/err" ] && fail "teacher: stderr not empty off a terminal" || ok
has "$T/out" "teacher" "valid"
has "$T/teacher.svg" "teacher plot" "<svg"
has "$T/teacher.svg" "teacher plot" "Training loss"
run 0 "teacher --json" "$LUPI" teacher "$T/d.csv" -p p1,p2,p3 $FAST --json
has "$T/out" "teacher --json" '^{"command":"teacher".*"valid":{"accuracy":'
run 1 "teacher without X*" "$LUPI" teacher "$T/d.csv" $FAST
has "$T/err" "teacher without X*" "^lupi: .*privileged"
run 0 "teacher libsvm" "$LUPI" teacher "$T/d.libsvm" --privileged 5-7 $FAST \
	-o "$T/teacher2.lupi"
# rmsprop: the library lists it, so the tool accepts it
run 0 "teacher rmsprop" "$LUPI" teacher "$T/d.csv" -p 5-7 $FAST \
	--optimizer rmsprop --schedule cosine --weight-decay 1e-4 \
	--dropout 0.1 -o "$T/rmsprop.lupi"
run 0 "info rmsprop" "$LUPI" info "$T/rmsprop.lupi"
has "$T/out" "info rmsprop" "^training: *rmsprop, lr 0.01"
has "$T/out" "info rmsprop" "weight decay 0.0001, dropout 0.1"
run 0 "info rmsprop --json" "$LUPI" info --json "$T/rmsprop.lupi"
has "$T/out" "info rmsprop --json" '"optimizer":"rmsprop"'
# Ctrl-C stops a fit through its progress callback: exit 130
"$HELPER" interrupt 1 "$LUPI" teacher "$T/d.csv" -p 5-7 --epochs 1000000 \
	--batch 1 --hidden 8 >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 130 ] && ok || fail "interrupted teacher: exit $rc, expected 130"
has "$T/err" "interrupted teacher" "^lupi: interrupted$"

# ---- info
run 0 "info" "$LUPI" info "$T/teacher.lupi"
has "$T/out" "info" "checksums verified"
has "$T/out" "info" "3 privileged features"
has "$T/out" "info" "3 inputs, 3 outputs"
has "$T/out" "info" "3 -> 16 (relu) -> 3 (identity)"
has "$T/out" "info" "parameters: *115$"
run 0 "info --json" "$LUPI" info --json "$T/teacher.lupi"
has "$T/out" "info --json" '"parameters":115'

# ---- distill from the model, and from outputs computed "elsewhere"
run 0 "distill" "$LUPI" distill "$T/d.csv" -p 5-7 --teacher "$T/teacher.lupi" \
	$FAST --temperature 2 --lambda 0.5 -o "$T/student.lupi" \
	--plot "$T/student.svg"
[ -s "$T/student.lupi" ] && ok || fail "distill: no model file"
has "$T/out" "distill" "teacher_valid"
has "$T/student.svg" "student plot" "</svg>"
run 0 "predict teacher" "$LUPI" predict "$T/teacher.lupi" "$T/d.csv" -p 5-7 \
	-o "$T/tpred.csv"
cut -d, -f1-3 "$T/tpred.csv" >"$T/probs.csv"
run 0 "distill --teacher-outputs" "$LUPI" distill "$T/d.csv" -p 5-7 \
	--teacher-outputs "$T/probs.csv" --outputs-kind probs $FAST \
	--loss kd --divergence kl -o "$T/student2.lupi"
# the library names it reverse_kl; '-' and '_' are the same
run 0 "distill reverse-kl" "$LUPI" distill "$T/d.csv" -p 5-7 \
	--teacher "$T/teacher.lupi" $FAST --divergence reverse-kl
# a feature loss between the hidden layers, a loss option of the library
run 0 "distill --feature hint" "$LUPI" distill "$T/d.csv" -p 5-7 \
	--teacher "$T/teacher.lupi" $FAST --feature hint --beta 0.5
run 2 "distill --feature unknown" "$LUPI" distill "$T/d.csv" -p 5-7 \
	--teacher "$T/teacher.lupi" --feature nope
has "$T/err" "distill --feature unknown" "one of none, hint, "
# outputs without a header line, read by the library
tail -n +2 "$T/probs.csv" >"$T/probs-nohead.csv"
run 0 "distill outputs without header" "$LUPI" distill "$T/d.csv" -p 5-7 \
	--teacher-outputs "$T/probs-nohead.csv" --outputs-kind probs $FAST
head -5 "$T/probs.csv" >"$T/short.csv"
run 1 "distill short outputs" "$LUPI" distill "$T/d.csv" -p 5-7 \
	--teacher-outputs "$T/short.csv" $FAST
has "$T/err" "distill short outputs" "^lupi: .*rows"
run 1 "distill missing teacher" "$LUPI" distill "$T/d.csv" -p 5-7 \
	--teacher "$T/none.lupi"
has "$T/err" "distill missing teacher" "none.lupi"

# ---- eval
run 0 "eval" "$LUPI" eval "$T/student.lupi" "$T/d.csv" -p 5-7
has "$T/out" "eval" "accuracy 0\.[0-9]"
run 0 "eval --json" "$LUPI" eval "$T/student.lupi" "$T/d.csv" -p 5-7 --json
has "$T/out" "eval --json" '"test":{"accuracy":[0-9.]*,"logloss":'
run 1 "eval wrong shape" "$LUPI" eval "$T/student.lupi" "$T/d.csv"
has "$T/err" "eval wrong shape" "^lupi: "
# data without the top class is read with the model's 3 classes
run 0 "eval without class 2" "$LUPI" eval "$T/teacher.lupi" "$T/no2.csv" \
	-p 5-7
has "$T/out" "eval without class 2" "accuracy 0\.[0-9]"
run 0 "predict without class 2" "$LUPI" predict "$T/teacher.lupi" \
	"$T/no2.csv" -p 5-7
has "$T/out" "predict without class 2" "^p0,p1,p2,class$"
run 0 "distill without class 2" "$LUPI" distill "$T/no2.csv" -p 5-7 \
	--teacher "$T/teacher.lupi" $FAST -o "$T/student3.lupi"
run 0 "distill without class 2: info" "$LUPI" info "$T/student3.lupi"
has "$T/out" "distill without class 2: info" "classification, 3 classes"
# the count is of the samples scored: a teacher skips those without X*
run 0 "eval skipped X*" "$LUPI" eval "$T/teacher.lupi" "$T/noxs.csv" -p 5-7
has "$T/out" "eval skipped X*" "(180 samples, 60 skipped without X\*)$"
run 0 "eval skipped X* --json" "$LUPI" eval "$T/teacher.lupi" \
	"$T/noxs.csv" -p 5-7 --json
has "$T/out" "eval skipped X* --json" '"samples":180,"skipped":60}'
run 0 "eval student all X" "$LUPI" eval "$T/student.lupi" "$T/noxs.csv" \
	-p 5-7
has "$T/out" "eval student all X" "(240 samples)$"
run 0 "teacher skipped X*" "$LUPI" teacher "$T/noxs.csv" -p 5-7 $FAST \
	--valid 0
has "$T/out" "teacher skipped X*" \
	"; 180 training samples (60 skipped without X\*)$"
has "$T/out" "teacher skipped X*" "^train .*(180 samples, 60 skipped"
run 0 "teacher skipped X* --json" "$LUPI" teacher "$T/noxs.csv" -p 5-7 \
	$FAST --valid 0 --json
has "$T/out" "teacher skipped X* --json" \
	'"train_samples":180,"train_skipped":60'
# a binary model's data is read as binary without --task
run 0 "teacher binary" "$LUPI" teacher "$T/bin.csv" -p 5-7 $FAST \
	--task binary -o "$T/binary.lupi"
run 0 "eval binary" "$LUPI" eval "$T/binary.lupi" "$T/bin.csv" -p 5-7
has "$T/out" "eval binary" "accuracy 0\.[0-9]"

# ---- predict
run 0 "predict" "$LUPI" predict "$T/student.lupi" "$T/d.csv" -p 5-7 \
	-o "$T/pred.csv"
lines=$(wc -l <"$T/pred.csv")
[ "$lines" -eq $((n + 1)) ] && ok || fail "predict: $lines lines, want $((n + 1))"
has "$T/pred.csv" "predict" "^p0,p1,p2,class$"
has "$T/pred.csv" "predict" "^0\.[0-9e-]*,[0-9.e-]*,[0-9.e-]*,[012]$"
run 0 "predict stdout" "$LUPI" predict "$T/student.lupi" "$T/nolabel.csv" \
	--no-target -p 5-7
lines=$(wc -l <"$T/out")
[ "$lines" -eq $((n + 1)) ] && ok || fail "predict stdout: $lines lines"

# ---- compare
run 0 "compare" "$LUPI" compare "$T/d.csv" -p 5-7 $FAST --seeds 2 \
	--lambdas 0.5,1 --temperatures 1,4 --plot "$T/compare.svg"
has "$T/out" "compare" "^teacher (X\*)"
has "$T/out" "compare" "^student, labels only"
has "$T/out" "compare" "^student, distilled *1.00 *4 "
has "$T/out" "compare" "+- "
has "$T/compare.svg" "compare plot" "stroke-dasharray"
has "$T/compare.svg" "compare plot" "distilled, T = 4"
run 0 "compare --json" "$LUPI" compare "$T/d.csv" -p 5-7 $FAST --seeds 2 \
	--lambdas 0.5 --temperatures 2 --json --test-fraction 0.25
has "$T/out" "compare --json" '"rows":\[{"kind":"baseline"'
has "$T/out" "compare --json" '"kind":"distilled","lambda":0.5,"temperature":2'

run 0 "compare --test" "$LUPI" compare "$T/train.csv" --test "$T/test.csv" \
	-p 5-7 $FAST --seeds 2 --lambdas 0.5 --temperatures 2
has "$T/out" "compare --test" "^120 training and 120 test samples"
run 0 "compare --lambda -T" "$LUPI" compare "$T/d.csv" -p 5-7 $FAST \
	--seeds 2 --lambda 0.3 -T 3
has "$T/out" "compare --lambda -T" "^student, distilled *0.30 *3 "
rows=$(grep -c "^student, distilled" "$T/out")
[ "$rows" -eq 1 ] && ok || fail "compare --lambda -T: $rows distilled rows"

# ---- IDX images and --max-rows
run 0 "teacher idx" "$LUPI" teacher "$T/images-idx3-ubyte" --pool 2 \
	--labels "$T/labels-idx1-ubyte" $FAST --valid 0 -o "$T/idx.lupi"
has "$T/out" "teacher idx" "privileged features (16)"
run 0 "eval idx" "$LUPI" eval "$T/idx.lupi" "$T/images-idx3-ubyte" --pool 2 \
	--labels "$T/labels-idx1-ubyte" --max-rows 10
has "$T/out" "eval idx" "(10 samples)"
run 1 "pool 64" "$LUPI" teacher "$T/images-idx3-ubyte" --pool 64 \
	--labels "$T/labels-idx1-ubyte" $FAST
has "$T/err" "pool 64" "^lupi: .*64"

# ---- data errors: exit 1, "lupi: FILE:LINE:COL: ..."
run 1 "bad number" "$LUPI" teacher "$T/bad.csv" -p 5-7 $FAST
has "$T/err" "bad number" "^lupi: .*bad.csv:17:3: .*abc"
run 1 "missing file" "$LUPI" eval "$T/student.lupi" "$T/missing.csv"
has "$T/err" "missing file" "^lupi: .*missing.csv"
run 1 "not a model" "$LUPI" info "$T/d.csv"
has "$T/err" "not a model" "^lupi: .*d.csv"
cp "$T/student.lupi" "$T/corrupt.lupi"
size=$(wc -c <"$T/corrupt.lupi")
printf 'X' | dd of="$T/corrupt.lupi" bs=1 seek=$((size - 3)) conv=notrunc \
	2>/dev/null
run 1 "corrupt model" "$LUPI" info "$T/corrupt.lupi"
has "$T/err" "corrupt model" "^lupi: "

# ---- demo
run 0 "demo" "$LUPI" demo --seeds 2
has "$T/out" "demo" "teacher, MLP on X\* (8x8 image) *0\.[0-9]* +- "
has "$T/out" "demo" "labels only *0\.[0-9]* +- "
has "$T/out" "demo" "distilled *0\.[0-9]* +- "
has "$T/out" "demo" "Relevant features"
run 0 "demo --json" "$LUPI" demo --seeds 2 --json --quiet
has "$T/out" "demo --json" '"synthetic":{"seeds":2,"teacher":{'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
