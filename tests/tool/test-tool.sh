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
for c in demo train teacher distill compare pate unlearn audit eval predict \
	info help; do
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
has "$T/out" "teacher --json names the BLAS" '"blas":"[^"][^"]*"'
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

# ---- checkpoints: a fit stopped after 30 steps (LUPI_STOP_AFTER_STEPS, as
# Ctrl-C would at that step) and resumed from the checkpoint of step 28
# ends with the bytes of the fit never stopped (and of one without
# checkpoints); 24 steps an epoch, so mid-epoch, with validation
CK="-p 5-7 --epochs 4 --batch 9 --lr 0.01 --hidden 8 --dropout 0.1"
run 0 "checkpoint ref" "$LUPI" teacher "$T/d.csv" $CK -o "$T/ck-ref.lupi"
run 0 "checkpoint uninterrupted" "$LUPI" teacher "$T/d.csv" $CK \
	-o "$T/ck-full.lupi" --checkpoint "$T/ck-full" --checkpoint-every 7
cmp -s "$T/ck-ref.lupi" "$T/ck-full.lupi" && ok ||
	fail "checkpoints changed the model"
[ -s "$T/ck-full/teacher.ckpt" ] && ok || fail "no teacher.ckpt written"
LUPI_STOP_AFTER_STEPS=30 run 130 "checkpoint stopped" "$LUPI" teacher \
	"$T/d.csv" $CK -o "$T/ck-stop.lupi" --checkpoint "$T/ck" \
	--checkpoint-every 7
[ -f "$T/ck-stop.lupi" ] && fail "a stopped fit saved its model" || ok
run 0 "checkpoint resumed" "$LUPI" teacher "$T/d.csv" $CK \
	-o "$T/ck-res.lupi" --checkpoint "$T/ck" --checkpoint-every 7 --resume
cmp -s "$T/ck-ref.lupi" "$T/ck-res.lupi" && ok ||
	fail "the resumed teacher differs from the one never stopped"
# a student too (its own file in the same directory)
KD="-p 5-7 --teacher $T/teacher.lupi --epochs 3 --batch 16 --hidden 8"
run 0 "student ref" "$LUPI" distill "$T/d.csv" $KD -o "$T/st-ref.lupi"
LUPI_STOP_AFTER_STEPS=20 run 130 "student stopped" "$LUPI" distill \
	"$T/d.csv" $KD --checkpoint "$T/ck" --checkpoint-every 5
run 0 "student resumed" "$LUPI" distill "$T/d.csv" $KD \
	-o "$T/st-res.lupi" --checkpoint "$T/ck" --resume
cmp -s "$T/st-ref.lupi" "$T/st-res.lupi" && ok ||
	fail "the resumed student differs from the one never stopped"
# errors: a usage error, then clear messages naming the path
run 2 "resume without checkpoint" "$LUPI" teacher "$T/d.csv" $CK --resume
has "$T/err" "resume without checkpoint" "--resume needs --checkpoint DIR"
run 1 "resume missing dir" "$LUPI" teacher "$T/d.csv" $CK --resume \
	--checkpoint "$T/no-such-dir"
has "$T/err" "resume missing dir" \
	"^lupi: --resume: .*no-such-dir: no such directory"
mkdir "$T/ck-empty"
run 1 "resume empty dir" "$LUPI" teacher "$T/d.csv" $CK --resume \
	--checkpoint "$T/ck-empty"
has "$T/err" "resume empty dir" \
	"^lupi: --resume: .*ck-empty/teacher.ckpt: no checkpoint to resume"
cp "$T/ck/teacher.ckpt" "$T/ck-empty/teacher.ckpt"
printf 'X' | dd of="$T/ck-empty/teacher.ckpt" bs=1 seek=100 conv=notrunc \
	2>/dev/null
run 1 "resume corrupt" "$LUPI" teacher "$T/d.csv" $CK --resume \
	--checkpoint "$T/ck-empty"
has "$T/err" "resume corrupt" \
	"^lupi: --resume: .*teacher.ckpt: checkpoint checksum does not match"
cp "$T/teacher.lupi" "$T/ck-empty/teacher.ckpt"
run 1 "resume a model file" "$LUPI" teacher "$T/d.csv" $CK --resume \
	--checkpoint "$T/ck-empty"
has "$T/err" "resume a model file" "not a liblupi checkpoint"
run 1 "resume another shape" "$LUPI" teacher "$T/d.csv" -p 5-7 --hidden 4 \
	--resume --checkpoint "$T/ck"
has "$T/err" "resume another shape" "another shape"
run 2 "compare --checkpoint" "$LUPI" compare "$T/d.csv" -p 5-7 \
	--checkpoint "$T/ck"

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

# ---- privacy: private training, PATE, unlearning, audit
# json_get KEY FILE: the first value of "KEY" in the JSON of FILE
json_get() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2" | head -1; }
# same NAME GOT WANT: the two strings are equal
same() { [ "$2" = "$3" ] && ok || fail "$1: '$2', expected '$3'"; }
DPFAST="--epochs 5 --batch 32 --hidden 16 --lr 0.01 --valid 0"
# epsilon is the accountant's for q = BATCH / n and EPOCHS x ceil(1/q)
# steps: 32 / 240, 8 steps an epoch
run 0 "train --dp-noise" "$LUPI" train "$T/d.csv" $DPFAST --dp-noise 1.1 \
	--dp-clip 1 --dp-seed 1 --json -o "$T/dp.lupi"
same "dp steps" "$(json_get steps "$T/out")" 40
same "dp sigma" "$(json_get sigma "$T/out")" 1.1
same "dp clip" "$(json_get clip "$T/out")" 1
same "dp accounted" "$(json_get accounted "$T/out")" 1
eps=$("$HELPER" dp-epsilon 32/240 1.1 40 1e-5)
same "dp epsilon" "$(json_get epsilon "$T/out")" "$eps"
# the record is in the file, and `lupi info` shows it
run 0 "info dp" "$LUPI" info "$T/dp.lupi"
has "$T/out" "info dp" "^privacy: *epsilon [0-9.]* at delta 1e-05 (DP-SGD: noise multiplier 1.1, sampling rate 0.1333, 40 steps)$"
run 0 "info dp --json" "$LUPI" info --json "$T/dp.lupi"
same "info dp epsilon" "$(json_get epsilon "$T/out")" "$eps"
has "$T/out" "info dp --json" '"standardize":0,"privacy":{"mechanism":"dp-sgd"'
run 0 "info not private" "$LUPI" info "$T/teacher.lupi"
has "$T/out" "info not private" "^privacy: *none"
run 0 "info not private --json" "$LUPI" info --json "$T/teacher.lupi"
has "$T/out" "info not private --json" '"privacy":null,"exit":0}$'
# the same noise seed gives the same model, bit for bit
run 0 "train --dp-seed again" "$LUPI" train "$T/d.csv" $DPFAST \
	--dp-noise 1.1 --dp-seed 1 -q -o "$T/dp2.lupi"
cmp -s "$T/dp.lupi" "$T/dp2.lupi" && ok || fail "--dp-seed 1 twice: files differ"
# the target: the inverse accountant's sigma, and its epsilon
run 0 "train --target-epsilon" "$LUPI" train "$T/d.csv" $DPFAST \
	--target-epsilon 2 --delta 1e-4 --json
want=$("$HELPER" dp-sigma 32/240 40 1e-4 2)
same "target sigma" "sigma=$(json_get sigma "$T/out") epsilon=$(json_get \
	epsilon "$T/out")" "$want"
same "target delta" "$(json_get delta "$T/out")" 0.0001
# q from the samples trained on: a teacher on 216 of 240 (--valid 0.1),
# ceil(216 / 32) = 7 steps an epoch
run 0 "teacher --dp-noise" "$LUPI" teacher "$T/d.csv" -p 5-7 --epochs 5 \
	--batch 32 --hidden 16 --dp-noise 2 --json
same "teacher dp steps" "$(json_get steps "$T/out")" 35
same "teacher dp epsilon" "$(json_get epsilon "$T/out")" \
	"$("$HELPER" dp-epsilon 32/216 2 35 1e-5)"
run 0 "distill --target-epsilon" "$LUPI" distill "$T/d.csv" -p 5-7 \
	--teacher "$T/teacher.lupi" $DPFAST --target-epsilon 4
has "$T/out" "distill --target-epsilon" "^privacy: epsilon [34][.0-9]* at delta 1e-05 (DP-SGD: .* 40 steps, clip 1)$"
lib dp noise
has_text "dp-noise help" "$(help_of train dp-noise)" "$range [$default]"
run 2 "dp-noise 0" "$LUPI" train "$T/d.csv" --dp-noise 0
has_line "$T/err" "dp-noise 0" "lupi: --dp-noise: '0' is not a number in $range"
run 2 "dp-noise missing" "$LUPI" train "$T/d.csv" --dp-noise
has "$T/err" "dp-noise missing" "^lupi: --dp-noise needs a value"
run 2 "dp-clip alone" "$LUPI" train "$T/d.csv" --dp-clip 2
has "$T/err" "dp-clip alone" "^lupi: --dp-clip: only for private training"
run 2 "dp-noise and target" "$LUPI" train "$T/d.csv" --dp-noise 1 \
	--target-epsilon 2
has "$T/err" "dp-noise and target" "give --dp-noise or --target-epsilon, not both"
run 2 "target-epsilon 0" "$LUPI" train "$T/d.csv" --target-epsilon 0
has "$T/err" "target-epsilon 0" "^lupi: --target-epsilon: give a value > 0"
run 2 "delta 1" "$LUPI" train "$T/d.csv" --dp-noise 1 --delta 1
has "$T/err" "delta 1" "^lupi: --delta: '1' is not a number in (0, 1)"
run 2 "dp --weight" "$LUPI" train "$T/d.csv" --dp-noise 1 --weight a
has "$T/err" "dp --weight" "drop --weight"
run 1 "target out of reach" "$LUPI" train "$T/d.csv" $DPFAST \
	--target-epsilon 0.000001
has "$T/err" "target out of reach" "^lupi: .*out of reach"
run 2 "compare --dp-noise" "$LUPI" compare "$T/d.csv" -p 5-7 --dp-noise 1
has "$T/err" "compare --dp-noise" "unknown option '--dp-noise' for compare"

# PATE: 160 private samples, 80 public ones (the last 80 of d.csv)
head -161 "$T/d.csv" >"$T/priv.csv"
{ head -1 "$T/d.csv"; tail -80 "$T/d.csv"; } >"$T/pub.csv"
cut -d, -f1-7 "$T/pub.csv" >"$T/pub-nolabel.csv"
PFAST="--teachers 4 --epochs 10 --batch 16 --hidden 16 --lr 0.01"
run 0 "pate" "$LUPI" pate "$T/priv.csv" "$T/pub.csv" $PFAST --noise 2 \
	--dp-seed 3 --test "$T/test.csv" --json -o "$T/pate.lupi"
same "pate queries" "$(json_get queries "$T/out")" 80
same "pate answered" "$(json_get answered "$T/out")" 80
same "pate epsilon" "$(json_get epsilon "$T/out")" \
	"$("$HELPER" pate-epsilon gnmax 2 0 80 80 1e-5)"
has "$T/out" "pate" '"label_accuracy":0\.[0-9]*,'
# the data-dependent bound is never above the data-independent one
awk -v a="$(json_get epsilon_data_dependent "$T/out")" \
	-v b="$(json_get epsilon "$T/out")" 'BEGIN { exit !(a > 0 && a <= b) }' &&
	ok || fail "pate: data-dependent epsilon not in (0, epsilon]"
has "$T/out" "pate" '"test":{"accuracy":0\.[0-9]'
[ -s "$T/pate.lupi" ] && ok || fail "pate: no student file"
# the student's file holds the PATE record: info and audit show it
pate_eps="$(json_get epsilon "$T/out")"
run 0 "info pate" "$LUPI" info "$T/pate.lupi"
has "$T/out" "info pate" "^privacy: *epsilon [0-9.]* at delta 1e-05 (PATE student: gnmax aggregation, noise 2, 80 of 80 queries answered; data-independent bound)$"
run 0 "info pate --json" "$LUPI" info --json "$T/pate.lupi"
has "$T/out" "info pate --json" '"privacy":{"mechanism":"pate","aggregation":"gnmax","epsilon":'"$pate_eps"',"delta":1e-05,"noise":2,"queries":80,"answered":80,"accounted":1}'
run 0 "audit pate" "$LUPI" audit "$T/pate.lupi" --members "$T/pub.csv" \
	--nonmembers "$T/test.csv" --json
has "$T/out" "audit pate" '"model":"[^"]*pate.lupi","epsilon":'"$pate_eps"','
run 0 "pate laplace" "$LUPI" pate "$T/priv.csv" "$T/pub.csv" $PFAST \
	--aggregation laplace --noise 10
has "$T/out" "pate laplace" "^laplace aggregation, noise 10: 80 of 80 queries answered, 0\.[0-9]* of the answers"
has "$T/out" "pate laplace" "^privacy: epsilon $("$HELPER" pate-epsilon \
	laplace 10 0 80 80 1e-5 | cut -c1-4)"
# the confident variant answers some; a public set without labels
run 0 "pate confident" "$LUPI" pate "$T/priv.csv" "$T/pub-nolabel.csv" \
	--no-target $PFAST --aggregation confident --noise 2 --sigma1 1 \
	--threshold 3 --json
answered=$(json_get answered "$T/out")
[ "$answered" -gt 0 ] && [ "$answered" -le 80 ] && ok ||
	fail "pate confident: $answered answered"
same "pate confident epsilon" "$(json_get epsilon "$T/out")" \
	"$("$HELPER" pate-epsilon confident 2 1 80 "$answered" 1e-5)"
same "pate confident label accuracy" "$(json_get label_accuracy "$T/out")" null
run 2 "pate without noise" "$LUPI" pate "$T/priv.csv" "$T/pub.csv"
has "$T/err" "pate without noise" "^lupi: pate: give --noise"
run 2 "pate sigma1 with gnmax" "$LUPI" pate "$T/priv.csv" "$T/pub.csv" \
	--noise 2 --sigma1 1
has "$T/err" "pate sigma1 with gnmax" "for --aggregation confident only"
run 2 "pate confident without threshold" "$LUPI" pate "$T/priv.csv" \
	"$T/pub.csv" --noise 2 --aggregation confident --sigma1 1
has "$T/err" "pate confident without threshold" "needs --sigma1 and --threshold"
run 2 "pate noise -1" "$LUPI" pate "$T/priv.csv" "$T/pub.csv" --noise -1
has "$T/err" "pate noise -1" "^lupi: --noise: '-1' is not a finite number > 0"
run 2 "pate teachers 1" "$LUPI" pate "$T/priv.csv" "$T/pub.csv" --noise 2 \
	--teachers 1
has "$T/err" "pate teachers 1" "^lupi: --teachers: '1' is not an integer"
run 1 "pate too many teachers" "$LUPI" pate "$T/priv.csv" "$T/pub.csv" \
	--noise 2 --teachers 161
has "$T/err" "pate too many teachers" "^lupi: .*priv.csv.*161"
run 1 "pate missing public" "$LUPI" pate "$T/priv.csv" "$T/none.csv" \
	--noise 2
has "$T/err" "pate missing public" "^lupi: .*none.csv"

# unlearning: a model of priv.csv; forget 5 samples (7 twice), a class
run 0 "unlearn: model" "$LUPI" train "$T/priv.csv" --epochs 20 --batch 16 \
	--hidden 32 --lr 0.01 --valid 0 -q -o "$T/orig.lupi"
printf '0\n1, 2\n# a comment\n5 7\n7\n' >"$T/forget.txt"
run 0 "unlearn sisa" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv" \
	--forget "$T/forget.txt" --method sisa --shards 4 --test "$T/pub.csv" \
	--json
same "unlearn forgotten" "$(json_get forgotten "$T/out")" 5
same "unlearn retained" "$(json_get retained "$T/out")" 155
same "unlearn shards" "$(json_get shards "$T/out")" 4
# 20 epochs x ceil(155 / 16) steps to retrain
same "unlearn retrain steps" "$(json_get retrain_steps "$T/out")" 200
has "$T/out" "unlearn sisa" '"steps":[1-9][0-9]*,'
has "$T/out" "unlearn sisa" '"unlearned":{"forget_accuracy":[0-9.]*,"retain_accuracy":[0-9.]*,"test_accuracy":[0-9.]*,"attack_auc":[0-9.]*,'
# retraining is exact: the model of training without the forgotten samples
run 0 "unlearn retrain" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv" \
	--forget "$T/forget.txt" --json -o "$T/retrained.lupi"
same "unlearn retrain method" "$(json_get method "$T/out")" '"retrain"'
same "unlearn retrain steps" "$(json_get steps "$T/out")" 200
awk 'NR == 1 || (NR - 2 != 0 && NR - 2 != 1 && NR - 2 != 2 && NR - 2 != 5 &&
	NR - 2 != 7)' "$T/priv.csv" >"$T/retain.csv"
run 0 "unlearn: train on the retained samples" "$LUPI" train \
	"$T/retain.csv" --epochs 20 --batch 16 --hidden 32 --lr 0.01 \
	--valid 0 -q -o "$T/retain.lupi"
cmp -s "$T/retrained.lupi" "$T/retain.lupi" && ok ||
	fail "unlearn retrain: not the model trained without the samples"
run 0 "unlearn retrain class" "$LUPI" unlearn "$T/orig.lupi" \
	"$T/priv.csv" --forget-class 2 --json
same "unlearn retrain class accuracy" "$(sed -n \
	's/.*"unlearned":{"forget_accuracy":\([^,]*\).*/\1/p' "$T/out")" 0
# the distillation methods: a new model, in fewer steps than retraining
for m in random-teacher bad-teacher scrub; do
	run 0 "unlearn $m" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv" \
		--forget-class 2 --method "$m" --unlearn-epochs 1 \
		--test "$T/pub.csv" --json -o "$T/$m.lupi"
	steps=$(json_get steps "$T/out")
	[ "$steps" -gt 0 ] && [ "$steps" -lt 200 ] && ok ||
		fail "unlearn $m: $steps steps"
	has "$T/out" "unlearn $m" '"unlearned":{"forget_accuracy":[0-9.]*,"retain_accuracy":[0-9.]*,"test_accuracy":[0-9.]*,"attack_auc":[0-9.]*,'
	[ -s "$T/$m.lupi" ] && ok || fail "unlearn $m: no model file"
done
n2=$(awk -F, 'NR > 1 && $8 == 2' "$T/priv.csv" | wc -l)
t2=$(awk -F, 'NR > 1 && $8 == 2' "$T/pub.csv" | wc -l)
run 0 "unlearn sisa class" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv" \
	--forget-class 2 --method sisa --slices 2 --test "$T/pub.csv" --json
same "unlearn class forgotten" "$(json_get forgotten "$T/out")" "$n2"
same "unlearn slices" "$(json_get slices "$T/out")" 2
# the attack's non-members: the test samples of the forgotten class
same "unlearn class non-members" "$(json_get attack_nonmembers "$T/out")" \
	"$t2"
steps=$(json_get steps "$T/out")
scratch=$(json_get scratch_steps "$T/out")
[ "$steps" -gt 0 ] && [ "$steps" -le "$scratch" ] && ok ||
	fail "unlearn sisa slices: $steps steps, $scratch from scratch"
# no shard saw class 2: the ensemble never predicts it
same "unlearn class accuracy" "$(sed -n \
	's/.*"unlearned":{"forget_accuracy":\([^,]*\).*/\1/p' "$T/out")" 0
run 0 "unlearn text" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv" \
	--forget-class 0 --method sisa --shards 2
has "$T/out" "unlearn text" "^forgetting [0-9]* of 160 samples by sisa$"
has "$T/out" "unlearn text" "^cost: [0-9]* steps in [0-9.]* s; retraining takes [0-9]* steps"
printf '3\n160\n' >"$T/forget-range.txt"
run 1 "unlearn index out of range" "$LUPI" unlearn "$T/orig.lupi" \
	"$T/priv.csv" --forget "$T/forget-range.txt"
has_line "$T/err" "unlearn index out of range" "lupi: --forget: $T/forget-range.txt:2: sample 160 is out of range: the data has 160 samples, 0 to 159"
printf '3\nx7\n' >"$T/forget-bad.txt"
run 1 "unlearn bad index" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv" \
	--forget "$T/forget-bad.txt"
has "$T/err" "unlearn bad index" "forget-bad.txt:2: 'x7' is not a sample number"
run 1 "unlearn missing forget file" "$LUPI" unlearn "$T/orig.lupi" \
	"$T/priv.csv" --forget "$T/none.txt"
has "$T/err" "unlearn missing forget file" "^lupi: --forget: .*none.txt: "
run 1 "unlearn class out of range" "$LUPI" unlearn "$T/orig.lupi" \
	"$T/priv.csv" --forget-class 3
has "$T/err" "unlearn class out of range" "class 3 is out of range: the model has 3 classes"
seq 0 159 >"$T/forget-all.txt"
run 1 "unlearn everything" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv" \
	--forget "$T/forget-all.txt"
has "$T/err" "unlearn everything" "nothing would be left"
run 2 "unlearn without forget" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv"
has "$T/err" "unlearn without forget" "give --forget FILE or --forget-class K"
run 2 "unlearn both" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv" \
	--forget "$T/forget.txt" --forget-class 1
run 2 "unlearn sisa -o" "$LUPI" unlearn "$T/orig.lupi" "$T/priv.csv" \
	--forget "$T/forget.txt" --method sisa -o "$T/x.lupi"
has "$T/err" "unlearn sisa -o" "drop -o"
run 2 "unlearn unknown method" "$LUPI" unlearn "$T/orig.lupi" \
	"$T/priv.csv" --forget "$T/forget.txt" --method nope
run 1 "unlearn missing model" "$LUPI" unlearn "$T/none.lupi" "$T/priv.csv" \
	--forget "$T/forget.txt"
has "$T/err" "unlearn missing model" "none.lupi"

# audit: members = non-members gives AUC 0.5 exactly; the private model's
# epsilon is its record's
run 0 "audit" "$LUPI" audit "$T/dp.lupi" "$T/orig.lupi" --members "$T/d.csv" \
	--nonmembers "$T/d.csv" --json
has "$T/out" "audit" '"models":\[{"model":"[^"]*dp.lupi","epsilon":'"$eps"',"metric":"accuracy","test":0\.[0-9]*,"auc":0.5,'
has "$T/out" "audit" '"model":"[^"]*orig.lupi","epsilon":null,"metric":"accuracy","test":0\.[0-9]*,"auc":0.5,'
run 0 "audit plot" "$LUPI" audit "$T/orig.lupi" "$T/dp.lupi" \
	--members "$T/priv.csv" --nonmembers "$T/pub.csv" --plot "$T/audit.svg"
has "$T/out" "audit plot" "^orig.lupi *inf *0\.[0-9]* *0\.[0-9]* "
has "$T/audit.svg" "audit plot" "Membership inference ROC"
has "$T/audit.svg" "audit plot" "Against epsilon"
has "$T/audit.svg" "audit plot" "dp.lupi (eps "
run 0 "audit plot, no private model" "$LUPI" audit "$T/orig.lupi" \
	--members "$T/priv.csv" --nonmembers "$T/pub.csv" --plot "$T/roc.svg"
has "$T/roc.svg" "audit plot, no private model" "Membership inference ROC"
grep -q "Against epsilon" "$T/roc.svg" &&
	fail "audit plot: an epsilon panel without a private model" || ok
head -1 "$T/d.csv" >"$T/ref.csv"
sed -n 2,81p "$T/d.csv" >>"$T/ref.csv"
run 0 "audit lira" "$LUPI" audit "$T/orig.lupi" --members "$T/priv.csv" \
	--nonmembers "$T/pub.csv" --attack lira --reference "$T/ref.csv" \
	--shadows 2 --json
has "$T/out" "audit lira" '"attack":"lira","models":\[{.*"auc":0\.[0-9]*,'
run 2 "audit without members" "$LUPI" audit "$T/orig.lupi" \
	--nonmembers "$T/pub.csv"
has "$T/err" "audit without members" "give --members FILE and --nonmembers FILE"
run 2 "audit lira without reference" "$LUPI" audit "$T/orig.lupi" \
	--members "$T/priv.csv" --nonmembers "$T/pub.csv" --attack lira
has "$T/err" "audit lira without reference" "go together"
run 2 "audit shadows 1" "$LUPI" audit "$T/orig.lupi" --members \
	"$T/priv.csv" --nonmembers "$T/pub.csv" --shadows 1
run 1 "audit missing model" "$LUPI" audit "$T/none.lupi" \
	--members "$T/priv.csv" --nonmembers "$T/pub.csv"
has "$T/err" "audit missing model" "none.lupi"

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
