#!/usr/bin/env bash
# Random preemptions and kills of one 2-rank run, then the same command until it finishes: the
# final checkpoint must equal an uninterrupted run's bit for bit (G, D, G_ema, both optimizers),
# metrics.jsonl must hold every iteration once, and `biggan logs summary` must read the run.
# Each of 16 trials starts the job and, at a random moment (during the start-up or after a random
# number of iterations), does one of: SIGKILL both ranks (a node lost), SIGKILL one rank, SIGTERM
# both ranks (Slurm's preemption), SIGUSR2 one rank (the warning signal). Every job must end
# within 60 s of it (never hang) and leave no rank behind; a stop signal must end it with code 3.
#   chaos_test.sh BIGGAN SOURCE_DIR [SEED]
set -euo pipefail
BIN=$1 SRC=$2
seed=${3:-$(( $(date +%s%N) % 32768 ))}
RANDOM=$seed  # the choices repeat with the seed; the moments depend on the machine's speed
WORK=$(mktemp -d /tmp/biggan_chaos.XXXXXX)
trap 'pkill -9 -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "FAIL (seed $seed, rerun with it as the third argument): $*"; exit 1; }

"$BIN" prepare-data --source fmnist --split test --output "$WORK/data/FMNIST32.hdf5" --progress none >/dev/null
total=200
args=(train --config "$SRC/tests/configs/tiny_fmnist.yaml" --set "data.data_root=$WORK/data"
      --set paths.experiment_name=tiny --set train.total_iterations=$total --set ckpt.save_every=7)
mpirun -np 2 "$BIN" "${args[@]}" --set "paths.runs_root=$WORK/straight" >"$WORK/straight.log" 2>&1 ||
  { cat "$WORK/straight.log"; fail "the uninterrupted run failed"; }
run=$WORK/runs/tiny
logged() {
  local n=0
  [[ -f $run/logs/metrics.jsonl ]] && n=$(grep -c . "$run/logs/metrics.jsonl" || true)
  echo "${n:-0}"
}
ranks() { pgrep -f -- "^$BIN train .*$WORK/runs" || true; }

for trial in $(seq 1 16); do
  mpirun -np 2 "$BIN" "${args[@]}" --set "paths.runs_root=$WORK/runs" >"$WORK/trial$trial.log" 2>&1 &
  launcher=$!
  if ((RANDOM % 4 == 0)); then
    moment="start-up"
    # Up to 10 s: on a slow or busy machine mpirun may take seconds to start both ranks, and a
    # trial that found no rank to kill would wait for the whole run instead.
    for _ in $(seq 500); do (($(ranks | wc -l) == 2)) && break; sleep 0.02; done
    sleep "0.$((RANDOM % 10))"
  else
    goal=$(($(logged) + RANDOM % 20 + 1))
    moment="iteration $goal"
    for _ in $(seq 600); do (($(logged) >= goal)) && break; kill -0 $launcher 2>/dev/null || break; sleep 0.05; done
  fi
  mapfile -t pids < <(ranks)
  kind=$((RANDOM % 4))
  [[ $moment == start-up ]] && kind=$((RANDOM % 2))  # no handler yet: only kills are meaningful
  if ((${#pids[@]} == 0)); then
    what="nothing (the run had finished)"
  else
    one=${pids[$((RANDOM % ${#pids[@]}))]}
    case $kind in
      0) what="SIGKILL both ranks"; kill -9 "${pids[@]}" 2>/dev/null || true ;;
      1) what="SIGKILL one rank"; kill -9 "$one" 2>/dev/null || true ;;
      2) what="SIGTERM both ranks"; kill -TERM "${pids[@]}" 2>/dev/null || true ;;
      3) what="SIGUSR2 one rank"; kill -USR2 "$one" 2>/dev/null || true ;;
    esac
  fi
  for _ in $(seq 600); do kill -0 $launcher 2>/dev/null || break; sleep 0.1; done
  if kill -0 $launcher 2>/dev/null; then
    # Open MPI 4.1's mpirun can itself hang when both ranks die inside MPI_Init (its PMIx server
    # reports "UNREACHABLE" and never exits; seen once in many trials on a Zen 3). No rank of ours
    # is left then, so the launcher is ended here and the trial goes on; a rank still alive, or
    # a hung launcher after any other trial, is a hang of ours and fails.
    if [[ $moment == start-up && $what == "SIGKILL both ranks" && -z $(ranks) ]]; then
      echo "trial $trial: mpirun still ran 60 s after both ranks were killed at start-up, with no rank left: ended"
      kill -9 $launcher 2>/dev/null || true
    else
      cat "$WORK/trial$trial.log"
      fail "trial $trial ($what at $moment): the job still runs after 60 s"
    fi
  fi
  set +e; wait $launcher; code=$?; set -e
  for _ in $(seq 50); do [[ -z $(ranks) ]] && break; sleep 0.1; done  # the launcher may end first
  [[ -z $(ranks) ]] || fail "trial $trial ($what at $moment): ranks left behind: $(ranks)"
  if [[ $what == SIGTERM* || $what == SIGUSR2* ]] && ! grep -q "training finished" "$WORK/trial$trial.log"; then
    [[ $code == 3 ]] || { cat "$WORK/trial$trial.log"; fail "trial $trial ($what at $moment): exit $code, expected 3"; }
  fi
  echo "trial $trial: $what at $moment: exit $code, $(logged) iterations logged, latest $(cat "$run/checkpoints/latest" 2>/dev/null || echo none)"
done

mpirun -np 2 "$BIN" "${args[@]}" --set "paths.runs_root=$WORK/runs" >"$WORK/final.log" 2>&1 ||
  { cat "$WORK/final.log"; fail "the run did not finish after the trials"; }
last=$(printf 'itr%08d' $total)
for f in G.h5 D.h5 G_ema.h5 G_optim.h5 D_optim.h5; do
  h5diff -q "$WORK/straight/tiny/checkpoints/$last/$f" "$run/checkpoints/$last/$f" ||
    fail "$f differs from the uninterrupted run's"
done
/usr/bin/python3 - "$run/logs/metrics.jsonl" $total <<'PY' || fail "metrics.jsonl does not hold every iteration once"
import json, sys
itrs = [json.loads(line)["itr"] for line in open(sys.argv[1])]
assert itrs == list(range(1, int(sys.argv[2]) + 1)), itrs
PY
"$BIN" logs summary "$run" >"$WORK/summary.txt" 2>&1 || { cat "$WORK/summary.txt"; fail "logs summary"; }
grep -Eq "status +finished" "$WORK/summary.txt" || { cat "$WORK/summary.txt"; fail "the summary does not say finished"; }
echo "PASS: 16 random kills and stops (seed $seed); the final weights equal the uninterrupted run's"
