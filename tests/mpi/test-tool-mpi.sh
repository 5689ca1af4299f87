#!/bin/sh
# lupi-mpi under mpirun (suite 'mpi'): teacher and distill at 2 ranks give
# the model of 1 rank within the float summation tolerance that
# tool-mpi-compare derives (shuffled: every rank draws the permutations of
# one process and steps on its share of each batch), also with a batch that
# does not split evenly; at 1 rank they are plain lupi's model file, byte
# for byte; a run stopped after some steps and resumed from its checkpoint
# gives the bytes of the run never stopped at 2 ranks (1 process:
# tests/tool), and a 2-rank checkpoint resumed at 1 rank the 1-rank model
# within the tolerance; compare
# prints the same table at 1 and 2 ranks (its cells shared; the bits are
# checked in test-mpi.c); and plain lupi refuses to run as 2 processes.
# Each mpirun takes about a second to start, so the checks are in two
# parts: PART `ranks` (teacher, distill, train, compare at 1 and 2 ranks,
# plain lupi, the batch) and `resume` (stop and resume, rank 0's errors).
# usage: test-tool-mpi.sh ranks|resume MPIRUN LUPI-MPI TOOL-MPI-COMPARE LUPI
set -u
PART=${1:?usage: test-tool-mpi.sh ranks|resume MPIRUN LUPI-MPI TOOL-MPI-COMPARE LUPI}
MPIRUN=${2:?}
LUPI=${3:?}
CMP=${4:?}
PLAIN=${5:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/lupi-mpi.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
mpi() {
	np=$1
	shift
	"$MPIRUN" --allow-run-as-root --oversubscribe -x LUPI_STOP_AFTER_STEPS \
		-np "$np" "$LUPI" "$@" --threads 1 -q >"$T/out" 2>"$T/err"
}
# run RC NAME NP ARGS...
run() {
	want=$1 name=$2
	shift 2
	mpi "$@"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else
		fail "$name: exit $rc, expected $want"
		sed 's/^/  | /' "$T/err" | head -8
	fi
}

# 240 samples: X = 4 noisy columns, X* = 3 clean ones, 3 classes
awk 'BEGIN {
	srand(11); print "a,b,c,d,p1,p2,p3,y"
	for (i = 0; i < 240; i++) {
		p1 = 2 * rand() - 1; p2 = 2 * rand() - 1; p3 = 2 * rand() - 1
		y = p1 + p2 > 0 ? 1 : 0; if (p3 > 0.4) y = 2
		printf "%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%d\n",
			p1 + rand() - 0.5, p2 + rand() - 0.5, p3 + rand() - 0.5,
			rand(), p1, p2, p3, y
	}
}' >"$T/d.csv"
# softmax regression, SGD, 2 epochs of 240 / 16 = 15 steps, shuffled
LIN="-p 5-7 --hidden= --optimizer sgd --lr 0.02 --batch 16 --epochs 2 \
--valid 0"
steps=30
# plain lupi: the model file lupi-mpi must give at 1 rank
plain() {
	"$PLAIN" "$@" --threads 1 -q >"$T/out" 2>"$T/err" ||
		fail "plain lupi $1: exit $?"
}

# ranks CMD NAME FIRST LAST ARGS...: CMD at 1 and 2 ranks into
# $T/NAME1.lupi and NAME2.lupi, within the tolerance (its inputs: columns
# FIRST..LAST of d.csv), and at 1 rank plain lupi's file NAME0.lupi
ranks() {
	cmd=$1 f=$T/$2 first=$3 last=$4
	shift 4
	for np in 1 2; do
		run 0 "$cmd np $np" "$np" "$cmd" "$T/d.csv" "$@" \
			-o "${f}$np.lupi"
	done
	"$CMP" "${f}1.lupi" "${f}2.lupi" "$T/d.csv" "$first" "$last" $steps &&
		ok || fail "$cmd: 2 ranks differ from 1 beyond the tolerance"
	plain "$cmd" "$T/d.csv" "$@" -o "${f}0.lupi"
	cmp "${f}0.lupi" "${f}1.lupi" && ok ||
		fail "$cmd: lupi-mpi at 1 rank differs from lupi"
}

export LUPI_STOP_AFTER_STEPS=
if [ "$PART" = ranks ]; then
ranks teacher t 4 6 $LIN
# without shuffling the same model would be far outside the tolerance
# (the tolerance can tell other batches apart)
plain teacher "$T/d.csv" $LIN --no-shuffle -o "$T/t0n.lupi"
"$CMP" "$T/t1.lupi" "$T/t0n.lupi" "$T/d.csv" 4 6 $steps >/dev/null
[ $? -eq 1 ] && ok ||
	fail "teacher: shuffled and unshuffled agree within the tolerance"
ranks distill s 0 3 $LIN -T 1 --lambda 0.5 --teacher "$T/t1.lupi"
# train (the handler of teacher, on X) runs on every rank too
ranks train m 0 3 $LIN
# the two ranks' models are not the same bits (else the test above
# would not see the reduction at all)
cmp -s "$T/t1.lupi" "$T/t2.lupi" && echo "note: np 1 and 2 teachers equal"
# compare: the same table (printed with 10 digits) at 1 and 2 ranks
for np in 1 2; do
	run 0 "compare np $np" "$np" compare "$T/d.csv" -p 5-7 --hidden 4 \
		--epochs 3 --seeds 2 --lambdas 0.5,1 --temperatures 1,4 --json
	sed 's/"seconds":[0-9.e+-]*,//' "$T/out" >"$T/compare$np.json"
done
grep -q '"kind":"distilled","lambda":1,"temperature":4' "$T/compare1.json" &&
	ok || fail "compare: no table"
cmp "$T/compare1.json" "$T/compare2.json" && ok ||
	fail "compare: 2 ranks print another table than 1"
# plain lupi under mpirun -np 2: every process would write the same files
"$MPIRUN" --allow-run-as-root --oversubscribe -np 2 "$PLAIN" teacher \
	"$T/d.csv" -p 5-7 >"$T/out" 2>"$T/err"
[ $? -ne 0 ] && ok || fail "lupi ran as 2 processes"
grep -q 'run lupi-mpi under mpirun' "$T/err" && ok ||
	fail "lupi as 2 processes: no message"
# a batch of 15 (ranks' parts 7 and 8, weighted), 2 x 16 steps
for np in 1 2; do
	run 0 "odd batch np $np" "$np" teacher "$T/d.csv" $LIN --batch 15 \
		-o "$T/o$np.lupi"
done
if "$CMP" "$T/o1.lupi" "$T/o2.lupi" "$T/d.csv" 4 6 32; then ok; else
	fail "batch 15: 2 ranks differ from 1 beyond the tolerance"; fi
else
# stopped at step 11 (checkpoints every 4: the one of step 8), resumed
MLP="-p 5-7 --hidden 8 --batch 16 --epochs 3 --valid 0.2"
run 0 "mlp" 2 teacher "$T/d.csv" $MLP -o "$T/m.lupi"
LUPI_STOP_AFTER_STEPS=11 run 130 "stopped" 2 teacher "$T/d.csv" $MLP \
	-o "$T/x.lupi" --checkpoint "$T/ck" --checkpoint-every 4
[ -f "$T/x.lupi" ] && fail "the stopped run wrote its model" || ok
run 0 "resumed" 2 teacher "$T/d.csv" $MLP -o "$T/r.lupi" \
	--checkpoint "$T/ck" --resume
cmp "$T/m.lupi" "$T/r.lupi" && ok ||
	fail "the resumed model differs from the one never stopped"
# errors on rank 0's side end every rank, said once
run 1 "missing data" 2 teacher "$T/missing.csv" $LIN
[ "$(grep -c 'missing.csv' "$T/err")" -eq 1 ] && ok ||
	fail "missing data: not one message"
run 1 "missing teacher" 2 distill "$T/d.csv" $LIN --teacher "$T/none.lupi"
grep -q 'none.lupi' "$T/err" && ok || fail "missing teacher: no message"
# a 2-rank checkpoint (global order and position) resumed at 1 rank
run 0 "linear np 1" 1 teacher "$T/d.csv" $LIN -o "$T/l1.lupi"
LUPI_STOP_AFTER_STEPS=11 run 130 "linear stopped" 2 teacher "$T/d.csv" \
	$LIN -o "$T/y.lupi" --checkpoint "$T/ck2" --checkpoint-every 4
run 0 "linear resumed at 1 rank" 1 teacher "$T/d.csv" $LIN \
	-o "$T/l2.lupi" --checkpoint "$T/ck2" --resume
if "$CMP" "$T/l1.lupi" "$T/l2.lupi" "$T/d.csv" 4 6 $steps; then ok; else
	fail "2 ranks resumed at 1: differs beyond the tolerance"; fi
run 1 "resume without checkpoint file" 2 teacher "$T/d.csv" $LIN \
	--checkpoint "$T" --resume
grep -q 'no checkpoint to resume' "$T/err" && ok ||
	fail "resume without file: no message"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
