#!/usr/bin/env bash
# Compares variants of the demo's recipe (configs/fmnist_demo.yaml) over several seeds: each
# variant trains on 2 ranks with each seed, is scored by the demo's classifier metric at every
# evaluation of the config (every 250 of the demo's 1,250 iterations), and the script prints a
# Markdown table with each variant's mean final accuracy.
#   scripts/demo_recipe_experiment.sh OUT SEEDS NAME="SETTINGS" [NAME="SETTINGS" ...]
#   scripts/demo_recipe_experiment.sh runs/recipes "0 1" demo="" decay750="optim.lr_schedule=linear_decay optim.lr_decay_start=750"
# SETTINGS are config keys (section.key=value) set on top of the config, separated by spaces;
# "" is the demo itself. Needs the demo's data and classifier in DATA (default data/; bash
# scripts/demo.sh makes them). CONFIG replaces the config and COMMON adds settings to every run.
# Each run goes through `biggan train` again: a finished run is not trained again, an interrupted
# one resumes, and a run folder whose config differs from its variant's now is refused.
# BRANCH=BASE@ITR trains the first variant, BASE, in full and every other variant only from
# BASE's checkpoint at ITR on (`biggan train --resume-from`; resuming is bit for bit, so that
# equals a full run of the variant whenever its settings change nothing before ITR: a decay
# starting at ITR or later, say). BASE's checkpoint at ITR must outlive its run (its save ring
# keeps ckpt.num_save_copies of them): the demo keeps 1,000 and 1,250.
#   BRANCH=constant@1000 scripts/demo_recipe_experiment.sh runs/recipes "0 1" constant="optim.lr_schedule=constant optim.lr_decay_start=0" demo=""
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# < 3)); then sed -n '2,18p' "$0" >&2; exit 2; fi
OUT=$(realpath -m "$1")
read -r -a seeds <<<"$2"
shift 2
BIN=${BIGGAN_BIN:-build/biggan}
DATA=${DATA:-data}
CONFIG=${CONFIG:-configs/fmnist_demo.yaml}
read -r -a common <<<"${COMMON:-}"
BRANCH=${BRANCH:-}
branch_base="" branch_itr=""
if [[ -n $BRANCH ]]; then
  [[ $BRANCH =~ ^([A-Za-z0-9_-]+)@([0-9]+)$ ]] ||
    { echo "demo_recipe_experiment: BRANCH='$BRANCH' is not BASE@ITR (a variant's name and an iteration)" >&2; exit 2; }
  branch_base=${BASH_REMATCH[1]} branch_itr=$((10#${BASH_REMATCH[2]}))
  [[ ${1%%=*} == "$branch_base" ]] ||
    { echo "demo_recipe_experiment: BRANCH='$BRANCH' needs $branch_base as the first variant, which trains in full" >&2; exit 2; }
fi
((${#seeds[@]})) || { echo "demo_recipe_experiment: no seeds given" >&2; exit 2; }
for seed in "${seeds[@]}"; do
  [[ $seed =~ ^[0-9]+$ ]] || { echo "demo_recipe_experiment: seed '$seed' is not a whole number" >&2; exit 2; }
done
for variant in "$@"; do
  name=${variant%%=*}
  [[ $variant == *=* && $name =~ ^[A-Za-z0-9_-]+$ ]] ||
    { echo "demo_recipe_experiment: '$variant' is not NAME=\"SETTINGS\" (NAME of letters, digits, - and _)" >&2; exit 2; }
done
for f in "$CONFIG" "$DATA/FMNIST32.hdf5" "$DATA/FMNIST32_test.hdf5" "$DATA/FMNIST32_classifier.h5"; do
  [[ -f $f ]] || { echo "demo_recipe_experiment: $f is missing; bash scripts/demo.sh prepares the demo's data" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1  # as scripts/demo.sh: one thread per rank
mkdir -p "$OUT"

for variant in "$@"; do
  name=${variant%%=*}
  read -r -a settings <<<"${variant#*=}"
  sets=()
  for s in "${common[@]}" "${settings[@]}"; do sets+=(--set "$s"); done
  for seed in "${seeds[@]}"; do
    run_name=${name}_seed$seed
    echo "demo_recipe_experiment: $run_name" >&2
    from=()
    # A branch folder with a checkpoint of its own resumes that (or, finished, trains nothing).
    if [[ -n $branch_base && $name != "$branch_base" ]] && ! compgen -G "$OUT/$run_name/checkpoints/itr*" >/dev/null; then
      base_ckpt=$(printf '%s/%s_seed%s/checkpoints/itr%08d' "$OUT" "$branch_base" "$seed" "$branch_itr")
      [[ -d $base_ckpt ]] || { echo "demo_recipe_experiment: $base_ckpt is missing: BRANCH needs $branch_base's" \
        "checkpoint at iteration $branch_itr (ckpt.save_every must reach it, and ckpt.num_save_copies keep it)" >&2; exit 1; }
      from=(--resume-from "$base_ckpt")
    fi
    mpirun -np 2 --oversubscribe -x OMP_NUM_THREADS "$BIN" train --config "$CONFIG" \
      --set "data.data_root=$DATA" --set "paths.runs_root=$OUT" --set "paths.experiment_name=$run_name" \
      --set "train.seed=$seed" --set log.pbar=none "${sets[@]}" "${from[@]}" >>"$OUT/$run_name.log" 2>&1 ||
      { echo "demo_recipe_experiment: $run_name failed (its log: $OUT/$run_name.log):" >&2
        grep -i "error" "$OUT/$run_name.log" | tail -n 2 >&2; exit 1; }
  done
done

/usr/bin/python3 - "$OUT" "${seeds[*]}" "$branch_base" "${branch_itr:-0}" "$@" <<'PY'
import json, statistics, sys
out, seeds, base, branch_itr, variants = sys.argv[1], sys.argv[2].split(), sys.argv[3], int(sys.argv[4]), sys.argv[5:]
def evaluations(run, name, seed):
    rows = {r["itr"]: r for r in (json.loads(l) for l in open(f"{run}/logs/eval.jsonl"))}
    if base and name != base:  # a branch scored only after ITR; up to it, it is its base run
        rows = {**{i: r for i, r in evaluations(f"{out}/{base}_seed{seed}", base, seed).items() if i <= branch_itr}, **rows}
    if not rows:
        sys.exit(f"demo_recipe_experiment: {run}/logs/eval.jsonl has no evaluation (ckpt.which_best: classifier?)")
    return rows
first = variants[0].split('=', 1)[0]
points = sorted(evaluations(f"{out}/{first}_seed{seeds[0]}", first, seeds[0]))
last = points[-1]
print("| variant | seed | " + " | ".join(f"accuracy @ {p}" for p in points) + f" | Fréchet @ {last} | s / iteration (median) |")
print("|---|---|" + "---|" * (len(points) + 2))
for variant in variants:
    name, settings = variant.split("=", 1)
    finals = []
    for seed in seeds:
        run = f"{out}/{name}_seed{seed}"
        evals = evaluations(run, name, seed)
        missing = [p for p in points if p not in evals]
        if missing:
            sys.exit(f"demo_recipe_experiment: {run} has no evaluation at iterations {missing}")
        metrics = [json.loads(l) for l in open(f"{run}/logs/metrics.jsonl")]
        step = statistics.median(r["seconds_per_iteration"] for r in metrics)
        finals.append(evals[last]["accuracy"])
        acc = " | ".join(f"{100 * evals[p]['accuracy']:.1f}%" for p in points)
        print(f"| {name} (`{settings or 'the config'}`) | {seed} | {acc} | {evals[last]['frechet']:.0f} | {step:.3f} |")
    print(f"| {name}: mean at {last} | |" + " |" * (len(points) - 1) + f" {100 * statistics.mean(finals):.1f}% | | |")
PY
