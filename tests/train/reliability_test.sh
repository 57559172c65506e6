#!/usr/bin/env bash
# Failures a long training job meets, caused for real on a tiny run, each checked by its exit
# status, its message and what is left on disk:
#   lock              a second `biggan train` into a run folder in use fails naming the holder's
#                     PID and host; after a SIGKILL the stale lock is taken over with a warning
#   stop_reason       SIGUSR2 to rank 1 only: rank 0 logs that rank's signal as the stop reason
#   early_stop_signal SIGUSR2 to rank 1 while it starts up: the job stops after iteration 1 with
#                     exit code 3 and a checkpoint, instead of dying of the signal
#   ema_kill_resume   SIGKILL of both ranks after a save and its sample sheets; the resumed run
#                     ends h5diff-equal to an uninterrupted one, G_ema included; what the killed
#                     run logged after the checkpoint, and a torn event line, go to logs/superseded/
#   damaged_same_name a damaged itr10 and the same command again: itr10 is written anew, the
#                     damaged folder kept beside it
#   one_rank_fails    rank 1 alone cannot read the checkpoint rank 0 chose: the job ends within
#                     seconds, non-zero, with rank 1's message
#   one_rank_fails_later  an error of one rank's own once the dataset is open (a collective MPI-IO
#                     file): rank 1 alone runs out of memory in its first step; rank 0 alone refuses
#                     a run folder that holds another config. Each job ends within seconds,
#                     non-zero, with that rank's message (closing the file in the error's unwinding
#                     waited for the other rank for ever)
#   divergence        rank 1 alone perturbs a parameter: the job stops naming tensor and rank
#   backend           dist.backend nccl on a CPU build is an error naming the key
#   deadline          SLURM_JOB_END_TIME close ahead: the run stops by itself with exit code 3,
#                     reason "deadline", and a checkpoint
#   reliability_test.sh BIGGAN SOURCE_DIR CASE
set -euo pipefail
BIN=$1 SRC=$2 CASE=$3
WORK=$(mktemp -d /tmp/biggan_reliability.XXXXXX)
trap 'pkill -9 -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "FAIL ($CASE): $*"; exit 1; }

"$BIN" prepare-data --source fmnist --split test --output "$WORK/data/FMNIST32.hdf5" --progress none >/dev/null
train=(train --config "$SRC/tests/configs/tiny_fmnist.yaml" --set "data.data_root=$WORK/data"
       --set paths.experiment_name=tiny --set "paths.runs_root=$WORK/runs")
run="$WORK/runs/tiny"

# Waits until the run's metrics log has at least $1 lines (60 s at most).
wait_for_iterations() {
  for _ in $(seq 600); do
    [[ -f $run/logs/metrics.jsonl ]] && (( $(wc -l <"$run/logs/metrics.jsonl") >= $1 )) && return 0
    sleep 0.1
  done
  fail "the run never reached iteration $1"
}
# The PID of MPI rank $1 of the job whose command line mentions $WORK.
rank_pid() {
  for pid in $(pgrep -f -- "biggan train .*$WORK" || true); do
    if grep -qx "OMPI_COMM_WORLD_RANK=$1" < <(tr '\0' '\n' </proc/"$pid"/environ 2>/dev/null); then echo "$pid"; return; fi
  done
}
expect_in() {  # FILE REGEX WHAT
  grep -Eq -- "$2" "$1" || { echo "--- $1"; cat "$1"; fail "$3: no match for /$2/"; }
}
valid_checkpoints() { ls "$run/checkpoints" | grep -E '^itr[0-9]{8}$' | sort; }

case $CASE in
lock)
  "$BIN" "${train[@]}" --set train.total_iterations=100000 --set eval.test_every=0 >"$WORK/first.log" 2>&1 &
  first=$!
  wait_for_iterations 2
  set +e
  "$BIN" "${train[@]}" --set train.total_iterations=100000 --set eval.test_every=0 >"$WORK/second.log" 2>&1
  code=$?
  set -e
  [[ $code == 1 ]] || fail "second run exited $code, expected 1"
  expect_in "$WORK/second.log" "run folder $run in use by PID $first on $(hostname)" "second run's error"
  kill -0 "$first" || fail "the first run did not survive the second start"
  before=$(wc -l <"$run/logs/metrics.jsonl")
  sleep 1
  (( $(wc -l <"$run/logs/metrics.jsonl") > before )) || fail "the first run stopped logging"
  kill -9 "$first"; wait "$first" 2>/dev/null || true
  grep -q "\"pid\":$first" "$run/run.lock" || fail "the killed run's lock file does not name it"
  "$BIN" "${train[@]}" --set train.total_iterations=12 >"$WORK/third.log" 2>&1 ||
    { cat "$WORK/third.log"; fail "the run after the kill failed"; }
  expect_in "$WORK/third.log" "taking over the stale run lock of PID $first on $(hostname)" "stale lock warning"
  [[ ! -s $run/run.lock ]] || fail "the finished run left its lock filled: $(cat "$run/run.lock")"
  # A lock file naming a process that is gone on this host, as a crash leaves it.
  echo "{\"host\":\"$(hostname)\",\"pid\":999999999,\"job_id\":\"\",\"since\":\"2026-01-01T00:00:00Z\"}" >"$run/run.lock"
  "$BIN" "${train[@]}" --set train.total_iterations=13 >"$WORK/fourth.log" 2>&1 || fail "stale PID: run failed"
  expect_in "$WORK/fourth.log" "taking over the stale run lock of PID 999999999" "stale PID warning"
  ;;
stop_reason)
  mpirun -np 2 "$BIN" "${train[@]}" --set train.total_iterations=100000 --set eval.test_every=0 \
    --set log.rank_files=true --set dist.backend=mpi >"$WORK/run.log" 2>&1 &
  launcher=$!
  wait_for_iterations 3
  pid=$(rank_pid 1)
  [[ -n $pid ]] || fail "no rank 1 process"
  kill -USR2 "$pid"
  set +e; wait "$launcher"; code=$?; set -e
  [[ $code == 3 ]] || { cat "$WORK/run.log"; fail "exit $code, expected 3"; }
  expect_in "$run/logs/events.jsonl" '"event":"stop".*"reason":"signal 12"|"reason":"signal 12".*"event":"stop"' "stop event"
  expect_in "$WORK/run.log" "stopped at iteration [0-9]+ \(signal 12\)" "stop message"
  # log.rank_files: every rank has its own file; rank 0's holds what it printed.
  [[ -f $run/logs/rank1.log ]] || fail "log.rank_files: no rank1.log"
  expect_in "$run/logs/rank0.log" "rank 0 info: stopped at iteration [0-9]+ \(signal 12\)" "rank 0's own log file"
  ;;
early_stop_signal)
  # The stop signal reaches rank 1 while it starts up: kept, not fatal; the job stops at the first
  # iteration boundary with a checkpoint and asks for a requeue.
  mpirun -np 2 -x BIGGAN_TEST_FAULT=stop_signal_during_start@1 "$BIN" "${train[@]}" --set train.total_iterations=100 \
    >"$WORK/run.log" 2>&1 && code=0 || code=$?
  [[ $code == 3 ]] || { cat "$WORK/run.log"; fail "exit $code, expected 3"; }
  expect_in "$WORK/run.log" "stopped at iteration 1 \(signal 12\)" "stop message"
  [[ $(valid_checkpoints) == itr00000001 ]] || fail "expected a checkpoint at itr1: $(valid_checkpoints)"
  ;;
backend)
  # dist.backend: nccl cannot be had on a CPU build; the error names the key.
  set +e
  "$BIN" "${train[@]}" --set dist.backend=nccl >"$WORK/run.log" 2>&1
  code=$?
  set -e
  [[ $code == 1 ]] || fail "exit $code, expected 1"
  expect_in "$WORK/run.log" "dist.backend: nccl(, but this build has no NCCL| needs CUDA tensors)" "backend error"
  [[ ! -d $run/checkpoints ]] || [[ -z $(ls "$run/checkpoints") ]] || fail "a refused run wrote checkpoints"
  ;;
ema_kill_resume)
  # Saves at 7, 14, 21, ... each followed by sample sheets of G_ema in train mode.
  args=("${train[@]}" --set train.total_iterations=40 --set ckpt.save_every=7 --set ckpt.async_save=false)
  mpirun -np 2 "$BIN" "${args[@]}" --set "paths.runs_root=$WORK/straight" >"$WORK/straight.log" 2>&1 ||
    { cat "$WORK/straight.log"; fail "straight run failed"; }
  mpirun -np 2 "$BIN" "${args[@]}" >"$WORK/killed.log" 2>&1 &
  launcher=$!
  wait_for_iterations 24
  kill -9 "$(rank_pid 0)" "$(rank_pid 1)" 2>/dev/null || true
  wait "$launcher" 2>/dev/null || true
  [[ $(valid_checkpoints | tail -n 1) == itr00000021 ]] || fail "expected itr21 as the newest checkpoint: $(valid_checkpoints)"
  cp "$run/logs/metrics.jsonl" "$WORK/killed_metrics.jsonl"
  printf '{"time":17,"event":"sto' >>"$run/logs/events.jsonl"  # as a kill in the middle of a line leaves it
  mpirun -np 2 "$BIN" "${args[@]}" >"$WORK/resumed.log" 2>&1 || { cat "$WORK/resumed.log"; fail "resume failed"; }
  expect_in "$WORK/resumed.log" "resumed from .*itr00000021" "resume message"
  expect_in "$WORK/resumed.log" "metrics.jsonl: [0-9]+ lines logged after iteration 21 by the interrupted run moved to .*superseded/metrics.jsonl" "superseded lines message"
  expect_in "$WORK/resumed.log" "events.jsonl: 1 damaged lines .* moved to" "torn event line message"
  # Nothing the killed run logged is lost: its lines after itr21 are kept byte for byte, the torn
  # event line too, and the live logs read as one run.
  /usr/bin/python3 - "$WORK/killed_metrics.jsonl" "$run/logs" <<'PY' || fail "superseded log lines"
import json, sys
killed, logs = open(sys.argv[1]).read().splitlines(), sys.argv[2]
later = [l for l in killed if json.loads(l)["itr"] > 21]
assert len(later) >= 3, later
assert open(logs + "/superseded/metrics.jsonl").read().splitlines() == later, "archive != the killed run's later lines"
itrs = [json.loads(l)["itr"] for l in open(logs + "/metrics.jsonl")]
assert itrs == list(range(1, 41)), itrs
assert open(logs + "/superseded/events.jsonl").read() == '{"time":17,"event":"sto\n'
PY
  "$BIN" logs summary "$run" >"$WORK/summary.txt" 2>&1 || { cat "$WORK/summary.txt"; fail "logs summary after the resume"; }
  for f in G.h5 D.h5 G_ema.h5 G_optim.h5 D_optim.h5; do
    h5diff -q "$WORK/straight/tiny/checkpoints/itr00000040/$f" "$run/checkpoints/itr00000040/$f" ||
      { h5diff -r "$WORK/straight/tiny/checkpoints/itr00000040/$f" "$run/checkpoints/itr00000040/$f" | sed -n 1,5p
        fail "$f differs from the uninterrupted run"; }
  done
  ;;
damaged_same_name)
  args=("${train[@]}" --set train.total_iterations=10 --set ckpt.save_every=5 --set ckpt.async_save=false)
  "$BIN" "${args[@]}" >"$WORK/first.log" 2>&1 || fail "first run failed"
  g="$run/checkpoints/itr00000010/G.h5"
  /usr/bin/python3 -c "
import os, sys
p = sys.argv[1]; n = os.path.getsize(p)
with open(p, 'r+b') as f:
    f.seek(n // 2); b = f.read(1); f.seek(n // 2); f.write(bytes([b[0] ^ 0x10]))" "$g"
  ! "$BIN" ckpt verify "$run/checkpoints/itr00000010" >/dev/null 2>&1 || fail "the damage was not detected"
  "$BIN" "${args[@]}" >"$WORK/second.log" 2>&1 || { cat "$WORK/second.log"; fail "second run failed"; }
  expect_in "$WORK/second.log" "itr00000010: not a valid checkpoint.*CRC-32.*kept as .*itr00000010.damaged-" "set-aside warning"
  expect_in "$WORK/second.log" "resumed from .*itr00000005" "resume from itr5"
  "$BIN" ckpt verify "$run/checkpoints/itr00000010" >/dev/null || fail "itr10 was not written anew"
  "$BIN" ckpt verify "$run/checkpoints/itr00000005" >/dev/null || fail "itr5 was lost"
  [[ -n $(compgen -G "$run/checkpoints/itr00000010.damaged-*") ]] || fail "the damaged folder was not kept"
  [[ $(cat "$run/checkpoints/latest") == itr00000010 ]] || fail "latest is $(cat "$run/checkpoints/latest")"
  ;;
one_rank_fails)
  mpirun -np 2 "$BIN" "${train[@]}" --set train.total_iterations=10 --set ckpt.save_every=5 >"$WORK/first.log" 2>&1 ||
    fail "first run failed"
  start=$SECONDS
  set +e
  BIGGAN_TEST_FAULT=unreadable_checkpoint@1 timeout 60 mpirun -np 2 "$BIN" "${train[@]}" --set train.total_iterations=20 \
    >"$WORK/second.log" 2>&1
  code=$?
  set -e
  (( code != 0 && code != 124 )) || fail "exit $code (124: the job hung)"
  (( SECONDS - start < 30 )) || fail "the job took $((SECONDS - start)) s to end"
  expect_in "$WORK/second.log" "error on rank 1 \($(hostname)\): rank 1 on $(hostname) cannot read the checkpoint rank 0 chose: .*itr00000010" \
    "rank 1's message"
  ;;
one_rank_fails_later)
  # Rank 1 alone gets 3 GB of address space, too little for the step of a 2048-image micro-batch.
  printf '#!/usr/bin/env bash\n[[ $OMPI_COMM_WORLD_RANK == 1 ]] && ulimit -v 3000000\nexec "$@"\n' >"$WORK/rank1_limit.sh"
  start=$SECONDS
  set +e
  timeout 60 mpirun -np 2 bash "$WORK/rank1_limit.sh" "$BIN" "${train[@]}" --set train.batch_size=2048 \
    --set model.G_ch=32 --set model.D_ch=32 --set train.total_iterations=2 >"$WORK/oom.log" 2>&1
  code=$?
  set -e
  (( code != 0 && code != 124 )) || fail "out of memory on rank 1: exit $code (124: the job hung)"
  (( SECONDS - start < 30 )) || fail "out of memory on rank 1: the job took $((SECONDS - start)) s to end"
  expect_in "$WORK/oom.log" "error on rank 1 \($(hostname)\): .*can't allocate memory" "rank 1's message"
  # Rank 0 alone refuses the folder (its config.yaml records another run) after the data is open.
  mpirun -np 2 "$BIN" "${train[@]}" --set train.total_iterations=2 >"$WORK/first.log" 2>&1 || fail "a plain run failed"
  start=$SECONDS
  set +e
  timeout 60 mpirun -np 2 "$BIN" "${train[@]}" --set train.total_iterations=2 --set model.G_ch=16 >"$WORK/second.log" 2>&1
  code=$?
  set -e
  (( code == 1 )) || fail "a refused folder on rank 0: exit $code, expected 1 (124: the job hung)"
  (( SECONDS - start < 30 )) || fail "a refused folder on rank 0: the job took $((SECONDS - start)) s to end"
  expect_in "$WORK/second.log" "error on rank 0 \($(hostname)\): run folder .*tiny already holds a run with a different config" \
    "rank 0's message"
  ;;
divergence)
  set +e
  BIGGAN_TEST_FAULT=perturb_parameter@1@4 timeout 120 mpirun -np 2 "$BIN" "${train[@]}" >"$WORK/run.log" 2>&1
  code=$?
  set -e
  (( code != 0 && code != 124 )) || fail "exit $code (124: the job hung)"
  expect_in "$WORK/run.log" "ranks diverged at iteration 4: these tensors differ from rank 0's: G [a-z_.0-9]+ on rank 1" \
    "divergence message"
  ;;
deadline)
  set +e
  SLURM_JOB_END_TIME=$(( $(date +%s) + 42 )) "$BIN" "${train[@]}" --set train.total_iterations=100000 --set eval.test_every=0 \
    >"$WORK/run.log" 2>&1
  code=$?
  set -e
  [[ $code == 3 ]] || { tail "$WORK/run.log"; fail "exit $code, expected 3"; }
  expect_in "$run/logs/events.jsonl" '"reason":"deadline"' "deadline stop event"
  newest=$(valid_checkpoints | tail -n 1)
  [[ -n $newest ]] || fail "no checkpoint written"
  "$BIN" ckpt verify "$run/checkpoints/$newest" >/dev/null || fail "the deadline checkpoint is not valid"
  itr=$((10#${newest#itr}))
  (( itr == $(wc -l <"$run/logs/metrics.jsonl") )) || fail "checkpoint $newest is not the last iteration"
  ;;
*) fail "unknown case" ;;
esac
echo "PASS ($CASE)"
