#!/usr/bin/env bash
# Exact resume: a run stopped by SIGUSR2 (sent to one rank) checkpoints, exits with the requeue
# code, and when resumed ends bit for bit where an uninterrupted run ends: weights, EMA,
# optimizer states and the loss columns of the metrics log.
#   resume_test.sh BIGGAN SOURCE_DIR NP [--set KEY=VALUE ...]   (extra settings for both runs)
set -euo pipefail
BIN=$1 SRC=$2 NP=$3
EXTRA=("${@:4}")
WORK=$(mktemp -d /tmp/biggan_resume.XXXXXX)
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
launch() { if [[ $NP == 1 ]]; then "$BIN" "$@"; else mpirun -np "$NP" "$BIN" "$@"; fi; }

"$BIN" prepare-data --source fmnist --split test --output "$WORK/data/FMNIST32.hdf5" --progress none >/dev/null
common=(train --config "$SRC/tests/configs/tiny_fmnist.yaml" --set "data.data_root=$WORK/data"
        --set paths.experiment_name=tiny "${EXTRA[@]}")

launch "${common[@]}" --set "paths.runs_root=$WORK/straight" >"$WORK/straight.log" 2>&1

launch "${common[@]}" --set "paths.runs_root=$WORK/stopped" >"$WORK/stopped.log" 2>&1 &
launcher=$!
metrics="$WORK/stopped/tiny/logs/metrics.jsonl"
for _ in $(seq 600); do
  [[ -f $metrics ]] && (( $(wc -l <"$metrics") >= 3 )) && break
  sleep 0.1
done
# One rank only (the last one started), not the launcher.
rank_pid=$(pgrep -f -- "biggan train .*runs_root=$WORK/stopped" | grep -vx "$launcher" | tail -n 1 || true)
[[ -n $rank_pid ]] || { echo "no rank process found"; cat "$WORK/stopped.log"; exit 1; }
kill -USR2 "$rank_pid"
set +e
wait "$launcher"
code=$?
set -e
if [[ $code != 3 ]]; then
  echo "stopped run exited with $code, expected 3 (requeue)"; cat "$WORK/stopped.log"; exit 1
fi
stopped_at=$(ls "$WORK/stopped/tiny/checkpoints" | grep '^itr' | sort | tail -n 1)
echo "stopped by SIGUSR2 at $stopped_at"
grep -q '"event":"stop"' "$WORK/stopped/tiny/logs/events.jsonl"
# The start event names the collectives: none on one CPU rank, MPI on more.
expected_collectives=$([[ $NP == 1 ]] && echo none || echo mpi)
grep -q "\"collectives\":\"$expected_collectives\",\"event\":\"start\"" "$WORK/stopped/tiny/logs/events.jsonl" ||
  { echo "the start event does not name collectives $expected_collectives"; cat "$WORK/stopped/tiny/logs/events.jsonl"; exit 1; }
# It names the BLAS as `biggan --version` does: the ranks under mpirun restart with OpenBLAS's
# kernels for this CPU as a lone process does (src/core/blas.h).
blas=$("$BIN" --version | sed -n 's/^  BLAS     //p')
grep -qF "\"blas\":\"$blas\"" "$WORK/stopped/tiny/logs/events.jsonl" ||
  { echo "the start event does not name the BLAS '$blas'"; cat "$WORK/stopped/tiny/logs/events.jsonl"; exit 1; }

launch "${common[@]}" --set "paths.runs_root=$WORK/stopped" >"$WORK/resumed.log" 2>&1 ||
  { echo "resume failed"; cat "$WORK/resumed.log"; exit 1; }
grep -q "resumed from" "$WORK/resumed.log"

a="$WORK/straight/tiny/checkpoints/itr00000030"
b="$WORK/stopped/tiny/checkpoints/itr00000030"
for f in G.h5 D.h5 G_ema.h5 G_optim.h5 D_optim.h5 rng.h5; do
  h5diff -q "$a/$f" "$b/$f" || { echo "$f differs after resume"; h5diff -r "$a/$f" "$b/$f" | sed -n 1,10p; exit 1; }
done
/usr/bin/python3 - "$WORK/straight/tiny/logs/metrics.jsonl" "$WORK/stopped/tiny/logs/metrics.jsonl" \
    "$WORK/stopped/tiny/config.yaml" <<'PY'
import json, re, sys
keys = ["itr", "G_loss", "D_loss_real", "D_loss_fake", "G_loss_mean", "D_loss_real_mean", "D_loss_fake_mean",
        "samples_seen", "G_grad_norm", "D_grad_norm", "G_lr", "D_lr"]
rows = [[{k: json.loads(l)[k] for k in keys} for l in open(p)] for p in sys.argv[1:3]]
assert len(rows[0]) == 30 and rows[0] == rows[1], "metrics differ between the straight and the resumed run"
print("metrics identical over", len(rows[0]), "iterations")
# The logged rates are the schedule's (optim.lr_schedule) on both sides of the stop.
config = open(sys.argv[3]).read()
value = lambda key: re.search(r"^  " + key + r": \"?([^\"\n]+)", config, re.M).group(1)
total, start = int(value("total_iterations")), int(value("lr_decay_start"))
decays = value("lr_schedule") == "linear_decay"
for row in rows[1]:
    factor = (total - row["itr"] + 1) / (total - start) if decays and row["itr"] > start else 1.0
    for k in ("G_lr", "D_lr"):
        expected = float(value(k)) * factor
        assert abs(row[k] - expected) <= 1e-12 * expected, f"iteration {row['itr']}: {k} {row[k]}, schedule {expected}"
print("rates follow the schedule:", value("lr_schedule"), "from", rows[1][0]["G_lr"], "to", rows[1][-1]["G_lr"])
PY
echo "resume on $NP rank(s) is bit for bit"
