#!/usr/bin/env bash
# Integration tests of slurm/train.sbatch on a real Slurm cluster started here (two slurmd
# "nodes" on this machine, see cluster_up.sh):
#   finish       2 tasks run the tiny Fashion-MNIST config to the end and exit 0
#   crash        a run that fails at start exits with its code and is not requeued
#   preempt      an outside `scontrol requeue`: checkpoint on TERM, same job id comes back, finishes
#   warn         the warning signal (USR2 to the batch shell): checkpoint, self-requeue, finishes
#   early_warn   the same signal as soon as the batch script runs: a clean stop and requeue, finishes
#   slow_rank    the same signal while rank 0 is still being loaded and rank 1 is up: passed on once
#                every rank catches it, a clean stop and requeue, finishes
#   follow_up    the same with BIGGAN_REQUEUE=resubmit: a follow-up job (afterany) finishes the run
#   limit        a job that stops without progress at every start ends at the restart limit
#   two_nodes    -N 2, one task per node, preempted and resumed
# Every resumed run must end with weights and optimizer states equal, bit for bit, to `finish`.
#
#   slurm_test.sh BIGGAN SOURCE_DIR [SCENARIO ...]     (default: all, in the order above)
# Exit 77 (skipped) when Slurm is not installed: apt-get install slurm-wlm munge.
set -euo pipefail
BIN=$(realpath "$1") SRC=$(realpath "$2")
shift 2
scenarios=("$@")
((${#scenarios[@]})) || scenarios=(finish crash preempt warn early_warn slow_rank follow_up limit two_nodes)
PATH=$PATH:/usr/sbin
for tool in slurmctld slurmd munged sbatch; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (apt-get install slurm-wlm munge)"; exit 77; }
done

WORK=$(mktemp -d /tmp/biggan_slurm.XXXXXX)
chmod 755 "$WORK"
export SLURM_TEST_DIR=$WORK/cluster SLURM_TEST_NODES=2
export SLURM_TEST_PORT=${BIGGAN_SLURM_TEST_PORT:-$((20000 + (RANDOM % 1000) * 4))}
cleanup() {
  local code=$?
  if ((code != 0)); then
    echo "---- slurmctld.log (tail)"; tail -n 30 "$SLURM_TEST_DIR/log/slurmctld.log" 2>/dev/null
    for f in "$WORK"/*.out; do [[ -f $f ]] && { echo "---- $f"; tail -n 40 "$f"; }; done
  fi
  bash "$SRC/tests/slurm/cluster_down.sh"
  rm -rf "$WORK"
  exit "$code"
}
trap cleanup EXIT
bash "$SRC/tests/slurm/cluster_up.sh"
export SLURM_CONF=$SLURM_TEST_DIR/etc/slurm.conf
export BIGGAN_BIN=$BIN OMP_NUM_THREADS=1
"$BIN" prepare-data --source fmnist --split test --output "$WORK/data/FMNIST32.hdf5" --progress none >/dev/null

fail() { echo "FAIL [$scenario]: $*"; exit 1; }
submit() {  # submit NAME [sbatch options...] -- [train options...]
  local name=$1; shift
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  (cd "$WORK" && sbatch --parsable --job-name="$name" --output="$WORK/$name.out" --gpus-per-task=0 \
    --cpus-per-task=1 --time=30 "${opts[@]}" "$SRC/slurm/train.sbatch" \
    --config "$SRC/tests/configs/tiny_fmnist.yaml" --set "data.data_root=$WORK/data" \
    --set "paths.runs_root=$WORK/runs" --set "paths.experiment_name=$name" --set train.total_iterations=60 "$@")
}
wait_job() { bash "$SRC/tests/slurm/wait_job.sh" "$1" "${2:-240}"; }
job_field() { scontrol show job -o "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
events_of() { cat "$WORK/runs/$1/logs/events.jsonl"; }
expect_event() {  # expect_event NAME PATTERN [COUNT]
  local n
  n=$(grep -c -- "$2" "$WORK/runs/$1/logs/events.jsonl" || true)
  [[ $n -ge ${3:-1} ]] || { events_of "$1"; fail "events log of $1 lacks ${3:-1}x $2 (found $n)"; }
}
wait_iterations() {  # wait_iterations NAME N: until the run has logged N iterations
  local metrics=$WORK/runs/$1/logs/metrics.jsonl
  for _ in $(seq 1200); do
    [[ -f $metrics ]] && (($(wc -l <"$metrics") >= $2)) && return 0
    sleep 0.1
  done
  fail "$1 did not reach $2 iterations"
}
wait_ready() {  # the batch script has set its traps once its job_start event is written
  local events=$WORK/runs/$1/logs/events.jsonl
  for _ in $(seq 600); do [[ -f $events ]] && grep -q '"event":"start"' "$events" && return 0; sleep 0.1; done
  fail "$1 never started"
}
job_rank_holds_usr2() {  # job_rank_holds_usr2 JOB: a biggan process of that job catches USR2
  local p mask
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/exe" 2>/dev/null) == "$BIN" ]] && grep -qxz "SLURM_JOB_ID=$1" "$p/environ" 2>/dev/null || continue
    mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "$p/status" 2>/dev/null)
    [[ -n $mask ]] && ((0x$mask & (1 << ($(kill -l USR2) - 1)))) && return 0
  done
  return 1
}
same_weights() {  # same_weights NAME: final checkpoint equals the uninterrupted run's
  local a=$WORK/runs/finish/checkpoints/itr00000060 b=$WORK/runs/$1/checkpoints/itr00000060 f
  [[ -d $a ]] || fail "no reference run (run the finish scenario first)"
  [[ -d $b ]] || fail "$1 has no final checkpoint"
  for f in G.h5 D.h5 G_ema.h5 G_optim.h5 D_optim.h5; do
    h5diff -q "$a/$f" "$b/$f" >/dev/null || fail "$f of $1 differs from the uninterrupted run"
  done
  echo "  $1: final weights and optimizer states equal the uninterrupted run bit for bit"
}

for scenario in "${scenarios[@]}"; do
  t0=$SECONDS
  echo "== $scenario"
  case $scenario in
    finish)
      j=$(submit finish -N 1 --ntasks-per-node=2 --)
      wait_job "$j" || fail "job $j did not complete"
      [[ $(job_field "$j" Restarts) == 0 ]] || fail "an uninterrupted run was restarted"
      expect_event finish '"event":"finished"'
      ;;
    crash)
      # The config resolves, the data does not exist: the step fails at start.
      j=$(submit crash -N 1 --ntasks-per-node=2 -- --set data.data_root="$WORK/no_data")
      set +e; wait_job "$j"; code=$?; set -e
      [[ $code == 1 ]] || fail "exit code $code, expected the step's 1"
      [[ $(job_field "$j" Restarts) == 0 ]] || fail "a crashed job was requeued"
      expect_event crash '"event":"failed"'
      grep -q "not requeueing" "$WORK/crash.out" || fail "no clear message in crash.out"
      # A config that does not resolve exits 2 before anything runs.
      j=$(submit badkey -N 1 --ntasks-per-node=1 -- --set train.no_such_key=1)
      set +e; wait_job "$j"; code=$?; set -e
      [[ $code == 2 ]] || fail "bad config key: exit code $code, expected 2"
      grep -q "no_such_key" "$WORK/badkey.out" || fail "the bad key is not named in badkey.out"
      ;;
    preempt | two_nodes)
      if [[ $scenario == preempt ]]; then j=$(submit preempt -N 1 --ntasks-per-node=2 --)
      else j=$(submit two_nodes -N 2 --ntasks-per-node=1 --); fi
      wait_ready "$scenario"
      wait_iterations "$scenario" 12
      scontrol requeue "$j"
      wait_job "$j" || fail "job $j did not complete after the requeue"
      [[ $(job_field "$j" Restarts) == 1 ]] || fail "Restarts=$(job_field "$j" Restarts), expected 1"
      expect_event "$scenario" '"event":"stop".*"reason":"signal 15"'
      expect_event "$scenario" '"event":"preempted"'
      expect_event "$scenario" "\"event\":\"resume\".*\"job_id\":\"$j\",\"ranks\":2,\"restart_count\":1"
      expect_event "$scenario" '"collectives":"mpi","event":"resume"'
      [[ $scenario == two_nodes ]] && { grep -q '"nodes":"n\[1-2\]"' "$WORK/runs/two_nodes/logs/events.jsonl" ||
                                         fail "the job did not run on both nodes"; }
      same_weights "$scenario"
      # The log analysis counts the preemption from the same logs.
      summary=$("$BIN" logs summary "$WORK/runs/$scenario")
      grep -Eq '^requeues +1 *$' <<<"$summary" && grep -Eq '^restarts \(resumes\) +1 *$' <<<"$summary" &&
        grep -Eq '^iterations +60 *$' <<<"$summary" && grep -Eq '^status +finished *$' <<<"$summary" ||
        { echo "$summary"; fail "biggan logs summary disagrees with the events"; }
      ;;
    warn)
      j=$(submit warn -N 1 --ntasks-per-node=2 --)
      wait_ready warn
      wait_iterations warn 12
      scancel --signal=USR2 --batch "$j"
      wait_job "$j" || fail "job $j did not complete after the warning"
      [[ $(job_field "$j" Restarts) == 1 ]] || fail "Restarts=$(job_field "$j" Restarts), expected 1"
      expect_event warn '"event":"stop".*"reason":"signal 12"'
      expect_event warn '"event":"requeue"'
      expect_event warn "\"event\":\"job_start\".*\"job_id\":\"$j\",\"restart_count\":1"
      same_weights warn
      ;;
    early_warn)
      # The warning as soon as the batch script runs: while it resolves the config, or while the
      # ranks start. Either way a clean stop and a requeue, never a failure that ends the chain.
      j=$(submit early_warn -N 1 --ntasks-per-node=2 --)
      events=$WORK/runs/early_warn/logs/events.jsonl
      for _ in $(seq 600); do [[ -f $events ]] && grep -q '"event":"job_start"' "$events" && break; sleep 0.05; done
      scancel --signal=USR2 --batch "$j"
      wait_job "$j" || fail "job $j did not complete after an early warning"
      [[ $(job_field "$j" Restarts) == 1 ]] || fail "Restarts=$(job_field "$j" Restarts), expected 1"
      expect_event early_warn '"event":"requeue"'
      expect_event early_warn '"event":"finished"'
      grep -Eq "got USR2 before the training step started|stopped at iteration [0-9]+ \(signal 12\)|ended by USR2 while its ranks were starting" \
        "$WORK/early_warn.out" || fail "early_warn.out does not say how the early warning was taken"
      echo "  taken as: $(grep -Eo -m1 "got USR2 before the training step started|stopped at iteration [0-9]+ \(signal 12\)|ended by USR2 while its ranks were starting" "$WORK/early_warn.out")"
      same_weights early_warn
      ;;
    slow_rank)
      # The window no handler can close: a rank's executable is still being loaded (before main)
      # when the warning comes, while the other rank is up and waits for it in MPI. A stand-in
      # holds rank 0 there (on the first start only) until the warning has had its time to act.
      slow=$WORK/slow_rank0
      printf '#!/bin/bash\nif [[ ${SLURM_PROCID:-} == 0 && $* != *--print-* && ${SLURM_RESTART_COUNT:-0} == 0 ]]; then\n  touch %q\n  for _ in {1..600}; do [[ -e %q ]] && break; sleep 0.1; done\nfi\nexec %q "$@"\n' \
        "$WORK/slow_rank_loading" "$WORK/slow_rank_release" "$BIN" >"$slow"
      chmod +x "$slow"
      j=$(BIGGAN_BIN=$slow submit slow_rank -N 1 --ntasks-per-node=2 --)
      for _ in $(seq 600); do [[ -f $WORK/slow_rank_loading ]] && break; sleep 0.05; done
      [[ -f $WORK/slow_rank_loading ]] || { touch "$WORK/slow_rank_release"; fail "rank 0 of the first start never began loading"; }
      for _ in $(seq 1200); do job_rank_holds_usr2 "$j" && break; sleep 0.05; done
      job_rank_holds_usr2 "$j" || { touch "$WORK/slow_rank_release"; fail "rank 1 did not catch USR2 while rank 0 was loading"; }
      scancel --signal=USR2 --batch "$j"
      sleep 2  # what the script passes on now reaches rank 0 while it is still loading
      touch "$WORK/slow_rank_release"
      wait_job "$j" || fail "job $j did not complete after a warning while rank 0 was loading"
      [[ $(job_field "$j" Restarts) == 1 ]] || fail "Restarts=$(job_field "$j" Restarts), expected 1"
      grep -Eq "stopped at iteration [0-9]+ \(signal 12\)" "$WORK/slow_rank.out" ||
        fail "slow_rank.out does not show the trainer taking the warning"
      ! grep -q "ended by USR2" "$WORK/slow_rank.out" || fail "a rank died of the warning while being loaded"
      expect_event slow_rank '"event":"stop".*"reason":"signal 12"'
      expect_event slow_rank '"event":"requeue"'
      expect_event slow_rank '"event":"finished"'
      same_weights slow_rank
      ;;
    follow_up)
      j=$(BIGGAN_REQUEUE=resubmit submit follow_up -N 1 --ntasks-per-node=2 --)
      wait_ready follow_up
      wait_iterations follow_up 12
      scancel --signal=USR2 --batch "$j"
      wait_job "$j" || fail "job $j failed"
      next=""
      for _ in $(seq 100); do
        next=$(grep -o '"follow_up_job":"[0-9]*"' "$WORK/runs/follow_up/logs/events.jsonl" | cut -d'"' -f4 || true)
        [[ -n $next ]] && break
        sleep 0.1
      done
      [[ -n $next ]] || fail "no follow-up job in the events log"
      wait_job "$next" || fail "follow-up job $next did not complete"
      expect_event follow_up "\"event\":\"job_start\".*\"job_id\":\"$next\",\"restart_count\":1"
      expect_event follow_up '"event":"finished"'
      same_weights follow_up
      ;;
    limit)
      # A stand-in for biggan that resolves the config but stops (exit 3) at once, every time.
      fake=$WORK/fake_biggan
      printf '#!/bin/sh\ncase "$*" in *--print-run-dir*) echo %q;; *--print-config*) ;; *) exit 3;; esac\n' \
        "$WORK/runs/limit" >"$fake"
      chmod +x "$fake"
      j=$(BIGGAN_BIN=$fake BIGGAN_REQUEUE=resubmit BIGGAN_MAX_RESTARTS=2 submit limit -N 1 --ntasks-per-node=1 --)
      for _ in $(seq 600); do
        grep -q '"event":"restart_limit"' "$WORK/runs/limit/logs/events.jsonl" 2>/dev/null && break
        sleep 0.1
      done
      expect_event limit '"event":"restart_limit"'
      expect_event limit '"event":"job_start"' 3
      expect_event limit '"event":"resubmit"' 2
      last=$(grep '"event":"restart_limit"' "$WORK/runs/limit/logs/events.jsonl" | grep -o '"job_id":"[0-9]*"' | cut -d'"' -f4)
      set +e; wait_job "$last"; code=$?; set -e
      [[ $code == 3 ]] || fail "the last job of the chain exited $code, expected 3"
      sleep 3
      [[ -z $(squeue -h -n limit -o %i) ]] || fail "a job is still queued after the restart limit"
      ;;
    *) fail "unknown scenario" ;;
  esac
  echo "  ok ($((SECONDS - t0)) s)"
done
echo "Slurm integration: ${#scenarios[@]} scenario(s) passed"
