#!/usr/bin/env bash
# Crash consistency: 20 trials kill a training run with SIGKILL at random moments, half of them
# while a save is paused in the middle of writing its files. Afterwards `ckpt verify` accepts
# the newest checkpoint that resume picks, and the run resumes from it.
#   crash_test.sh BIGGAN SOURCE_DIR
set -euo pipefail
BIN=$1 SRC=$2
WORK=$(mktemp -d /tmp/biggan_crash.XXXXXX)
trap 'pkill -9 -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$BIN" prepare-data --source fmnist --split test --output "$WORK/data/FMNIST32.hdf5" --progress none >/dev/null
args=(train --config "$SRC/tests/configs/tiny_fmnist.yaml" --set "data.data_root=$WORK/data"
      --set paths.experiment_name=crash --set "paths.runs_root=$WORK/runs" --set ckpt.save_every=2
      --set train.total_iterations=400)
run="$WORK/runs/crash"
expected=""      # the checkpoint the next start must resume from: the newest that verify accepts
inside_save=0    # trials killed while a save was half written
for trial in $(seq 1 20); do
  if (( trial % 2 )); then
    export BIGGAN_TEST_PAUSE_AFTER_FILES=$(( RANDOM % 7 + 1 ))  # pause inside a save
  else
    unset BIGGAN_TEST_PAUSE_AFTER_FILES
  fi
  "$BIN" "${args[@]}" >"$WORK/trial$trial.log" 2>&1 &
  pid=$!
  if [[ -n ${BIGGAN_TEST_PAUSE_AFTER_FILES:-} ]]; then
    for _ in $(seq 300); do compgen -G "$run/checkpoints/.tmp-*" >/dev/null && break; sleep 0.05; done
    sleep 0.$(( RANDOM % 5 ))
  else
    sleep "$(( RANDOM % 3 + 1 )).$(( RANDOM % 10 ))"
  fi
  # The paused writer never finishes: a temporary folder still there means the kill hit a save.
  compgen -G "$run/checkpoints/.tmp-*" >/dev/null && inside_save=$((inside_save + 1))
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ -n $expected ]] && grep -q "resumed from" "$WORK/trial$trial.log"; then
    grep -q "resumed from $run/checkpoints/$expected at" "$WORK/trial$trial.log" ||
      { echo "trial $trial resumed from another checkpoint than $expected:"; grep "resumed from" "$WORK/trial$trial.log"; exit 1; }
  fi
  newest=$(ls "$run/checkpoints" 2>/dev/null | grep -E '^itr[0-9]{8}$' | sort | tail -n 1 || true)
  [[ -z $newest ]] && continue
  # Resume must find a valid checkpoint; verify names the damaged ones (never the one it loads).
  valid=""
  for c in $(ls "$run/checkpoints" | grep -E '^itr[0-9]{8}$' | sort -r); do
    if "$BIN" ckpt verify "$run/checkpoints/$c" >/dev/null; then valid=$c; break; fi
  done
  [[ -n $valid ]] || { echo "trial $trial: no valid checkpoint left"; "$BIN" ckpt list "$run"; exit 1; }
  expected=$valid
done
(( inside_save >= 5 )) || { echo "only $inside_save of 20 kills hit a save in progress"; exit 1; }
unset BIGGAN_TEST_PAUSE_AFTER_FILES
"$BIN" "${args[@]}" --set train.total_iterations=$(( $(ls "$run/checkpoints" | grep -E '^itr[0-9]{8}$' | sort | tail -n 1 | sed 's/itr0*//') + 2 )) \
  >"$WORK/final.log" 2>&1 || { echo "resume after the crashes failed"; cat "$WORK/final.log"; exit 1; }
grep -q "resumed from $run/checkpoints/$expected at" "$WORK/final.log" ||
  { echo "did not resume from $expected"; cat "$WORK/final.log"; exit 1; }
echo "20 kill trials ($inside_save inside a save): every time a valid checkpoint remained and the run resumed from it"
