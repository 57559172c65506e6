#!/usr/bin/env bash
# scripts/demo_recipe_experiment.sh: bad arguments and missing data are refused with exit 2 and a
# message naming them; a real experiment on the tiny config (2 variants x 2 seeds, 20 iterations,
# scored at 10 and 20) prints one row per run and a mean per variant, the decaying variant equals
# the constant one until its decay starts, a second call trains nothing again, and a variant
# whose settings changed under the same name is refused rather than reported from the old runs.
# BRANCH=BASE@ITR: a variant branched from the base run's checkpoint trains only after ITR and
# scores exactly as its full run did; a missing checkpoint and a bad BRANCH are refused.
#   demo_recipe_experiment_test.sh BIGGAN SOURCE_DIR
set -uo pipefail
BIN=$1 SRC=$2
script=$SRC/scripts/demo_recipe_experiment.sh
WORK=$(mktemp -d /tmp/biggan_recipes.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_refusal() {  # message args...
  local message=$1; shift
  local out code
  out=$(BIGGAN_BIN=$BIN DATA=$WORK/data bash "$script" "$@" 2>&1); code=$?
  [[ $code == 2 ]] || fail "$* exited $code, expected 2: $out"
  grep -qF -- "$message" <<<"$out" || fail "$* did not say '$message': $out"
}
expect_refusal "Compares variants of the demo's recipe" "$WORK/out" "0"
expect_refusal "seed 'x' is not a whole number" "$WORK/out" "0 x" a=""
expect_refusal "no seeds given" "$WORK/out" "" a=""
expect_refusal "'bad name=' is not NAME=\"SETTINGS\"" "$WORK/out" "0" "bad name="
expect_refusal "'plain' is not NAME=\"SETTINGS\"" "$WORK/out" "0" plain
expect_refusal "$WORK/data/FMNIST32.hdf5 is missing" "$WORK/out" "0" a=""
BRANCH=a expect_refusal "BRANCH='a' is not BASE@ITR" "$WORK/out" "0" a=""
BRANCH=b@10 expect_refusal "BRANCH='b@10' needs b as the first variant" "$WORK/out" "0" a="" b=""
[[ ! -e $WORK/out ]] || fail "a refused call left $WORK/out behind"

# The demo's data layout from the 10,000 test images, and a classifier of one epoch.
mkdir -p "$WORK/data"
"$BIN" prepare-data --source fmnist --split test --output "$WORK/data/FMNIST32.hdf5" --progress none >/dev/null || fail "prepare-data"
cp "$WORK/data/FMNIST32.hdf5" "$WORK/data/FMNIST32_test.hdf5"
mpirun -np 2 "$BIN" classifier train --train "$WORK/data/FMNIST32.hdf5" --test "$WORK/data/FMNIST32_test.hdf5" \
  --output "$WORK/data/FMNIST32_classifier.h5" --epochs 1 --batch-size 64 >"$WORK/classifier.log" 2>&1 ||
  { cat "$WORK/classifier.log"; fail "classifier train"; }

run_experiment() {  # [decay start]
  BIGGAN_BIN=$BIN DATA=$WORK/data CONFIG=$SRC/tests/configs/tiny_fmnist.yaml \
    COMMON="train.total_iterations=20 ckpt.which_best=classifier eval.test_every=10 eval.num_classifier_samples=200" \
    bash "$script" "$WORK/out" "0 1" constant="" decay="optim.lr_schedule=linear_decay optim.lr_decay_start=${1:-10}"
}
table=$(run_experiment 2>"$WORK/first.err") || { cat "$WORK/first.err" "$WORK"/out/*.log; fail "the experiment failed"; }
echo "$table"
[[ $(grep -c "^| constant (\`the config\`) | [01] |" <<<"$table") == 2 ]] || fail "not one row per seed for 'constant'"
[[ $(grep -c "^| decay (\`optim.lr_schedule=linear_decay optim.lr_decay_start=10\`) | [01] |" <<<"$table") == 2 ]] ||
  fail "not one row per seed for 'decay'"
grep -q "^| variant | seed | accuracy @ 10 | accuracy @ 20 | Fréchet @ 20 |" <<<"$table" || fail "header: $table"
grep -Eq "^\| constant: mean at 20 \| \| \| [0-9.]+% \| \| \|$" <<<"$table" || fail "no mean row for 'constant'"
grep -Eq "^\| decay: mean at 20 \| \| \| [0-9.]+% \| \| \|$" <<<"$table" || fail "no mean row for 'decay'"
# The variants differ only after iteration 10: the same accuracy there, seed by seed.
for seed in 0 1; do
  at10() { grep "^| $1 (.*) | $seed |" <<<"$table" | cut -d'|' -f4; }
  [[ $(at10 constant) == "$(at10 decay)" ]] || fail "seed $seed: constant and decay differ at iteration 10: $table"
done
# The mean is the mean of the rows.
/usr/bin/python3 - "$table" <<'PY' || fail "a mean is not the mean of its rows"
import sys
rows = [l.split("|") for l in sys.argv[1].splitlines()]
for name in ("constant", "decay"):
    finals = [float(r[4].strip().rstrip("%")) for r in rows if len(r) > 4 and r[1].startswith(f" {name} (")]
    mean = [float(r[4].strip().rstrip("%")) for r in rows if r[1].strip() == f"{name}: mean at 20"][0]
    assert len(finals) == 2 and abs(sum(finals) / 2 - mean) <= 0.051, (name, finals, mean)
PY
# A second call reprints the table from the finished runs and trains nothing.
lines() { cat "$WORK"/out/*/logs/metrics.jsonl | wc -l; }
before=$(lines)
again=$(run_experiment 2>"$WORK/second.err") || fail "the second call failed: $(cat "$WORK/second.err")"
[[ $again == "$table" ]] || fail "the second call printed another table"
[[ $(lines) == "$before" ]] || fail "the second call trained again ($before metrics lines, now $(lines))"
# The same name with other settings: refused, naming the run and the changed key.
out=$(run_experiment 5 2>&1); code=$?
[[ $code == 1 ]] || fail "a changed variant exited $code, expected 1: $out"
grep -qF "decay_seed0 failed" <<<"$out" || fail "a changed variant did not name its run: $out"
grep -qF "optim.lr_decay_start: 10 -> 5" <<<"$out" || fail "a changed variant did not name the changed key: $out"

# Branched from 'constant' at 10, the decay (starting at 10) trains iterations 11 to 20 only and
# scores as the full 'decay' runs did, to the last digit; 'constant' itself trains nothing again.
run_branched() {  # NAME ITR
  BRANCH=constant@$2 BIGGAN_BIN=$BIN DATA=$WORK/data CONFIG=$SRC/tests/configs/tiny_fmnist.yaml \
    COMMON="train.total_iterations=20 ckpt.which_best=classifier eval.test_every=10 eval.num_classifier_samples=200" \
    bash "$script" "$WORK/out" "0 1" constant="" "$1=optim.lr_schedule=linear_decay optim.lr_decay_start=10"
}
before=$(cat "$WORK"/out/constant_seed*/logs/metrics.jsonl | wc -l)
branched=$(run_branched branch 10 2>"$WORK/branched.err") ||
  { cat "$WORK/branched.err" "$WORK"/out/branch_seed*.log; fail "the branched experiment failed"; }
echo "$branched"
[[ $(cat "$WORK"/out/constant_seed*/logs/metrics.jsonl | wc -l) == "$before" ]] || fail "the base variant trained again"
for seed in 0 1; do
  grep -qF "resumed from $WORK/out/constant_seed$seed/checkpoints/itr00000010 at iteration 10" "$WORK/out/branch_seed$seed.log" ||
    fail "seed $seed: the branch did not resume from constant's checkpoint at 10: $(tail -n 5 "$WORK/out/branch_seed$seed.log")"
  first=$(head -n 1 "$WORK/out/branch_seed$seed/logs/metrics.jsonl" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["itr"])')
  [[ $first == 11 ]] || fail "seed $seed: the branch's first logged iteration is $first, expected 11"
  scores() { grep "^| $1 (.*) | $seed |" <<<"$2" | cut -d'|' -f4-6; }
  full=$(scores decay "$table") part=$(scores branch "$branched")
  [[ -n $full && $full == "$part" ]] || fail "seed $seed: branched '$part' against the full run's '$full'"
  # The table rounds; the logged scores at 20 must match in every digit.
  at20() { grep '"itr":20,' "$WORK/out/$1_seed$seed/logs/eval.jsonl" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(repr(d["accuracy"]), repr(d["frechet"]))'; }
  [[ -n $(at20 decay) && $(at20 decay) == "$(at20 branch)" ]] || fail "seed $seed: at 20 the branch scored $(at20 branch), the full run $(at20 decay)"
done
[[ $(grep "^| branch: mean" <<<"$branched" | cut -d'|' -f3-) == "$(grep "^| decay: mean" <<<"$table" | cut -d'|' -f3-)" ]] ||
  fail "the branched mean differs from the full runs' mean"
# No checkpoint at 15 (saves every 10): refused, naming the checkpoint it needs.
out=$(run_branched nockpt 15 2>&1); code=$?
[[ $code == 1 ]] || fail "a missing base checkpoint exited $code, expected 1: $out"
grep -qF "$WORK/out/constant_seed0/checkpoints/itr00000015 is missing" <<<"$out" || fail "the missing checkpoint was not named: $out"
[[ ! -e $WORK/out/nockpt_seed0 ]] || fail "a refused branch left a run folder behind"
echo "demo_recipe_experiment: refusals, table, means, reuse, changed variants and branches checked"
