#!/usr/bin/env bash
# Every jobs/launch_*.sh resolves its config for its default node and GPU counts and builds an
# sbatch command on slurm/train.sbatch (DRY_RUN=1: nothing is queued, no Slurm needed); a layout
# that cannot keep the global batch is refused before submission, naming the key; train.sbatch
# refuses bad settings, keeps its events whole after a line torn by a killed trainer, takes a
# stop signal before or while the step starts for a clean stop, and one after the step does not
# keep it from submitting the follow-up job.
#   jobs_test.sh BIGGAN SOURCE_DIR
set -euo pipefail
BIN=$(realpath "$1") SRC=$(realpath "$2")
export BIGGAN_BIN=$BIN DRY_RUN=1
bash -n "$SRC/slurm/train.sbatch"
count=0
for script in "$SRC"/jobs/launch_*.sh; do
  out=$(bash "$script") || { echo "FAIL: $script exited non-zero"; echo "$out"; exit 1; }
  grep -q "^sbatch .*--ntasks-per-node=.*slurm/train.sbatch --config configs/" <<<"$out" ||
    { echo "FAIL: $script printed no sbatch command"; echo "$out"; exit 1; }
  grep -q "^global batch [0-9]* = " <<<"$out" || { echo "FAIL: $script printed no plan"; echo "$out"; exit 1; }
  count=$((count + 1))
done
((count >= 8)) || { echo "FAIL: only $count launch scripts"; exit 1; }
# 2 nodes x 8 GPUs: 2048 / (256 x 16) is not whole, so the layout is refused.
set +e
out=$(NODES=2 bash "$SRC/jobs/launch_BigGAN_bs256x8.sh" 2>&1)
code=$?
set -e
[[ $code == 2 ]] || { echo "FAIL: an impossible layout exited $code, expected 2"; echo "$out"; exit 1; }
grep -q "train.global_batch_size" <<<"$out" || { echo "FAIL: the error does not name the key"; echo "$out"; exit 1; }
# 4 GPUs keep 2048 with 2 accumulations.
out=$(GPUS_PER_NODE=4 bash "$SRC/jobs/launch_BigGAN_bs256x8.sh")
grep -q "^global batch 2048 = batch_size x 2 accumulation(s) x 4 rank(s)" <<<"$out" ||
  { echo "FAIL: 4 GPUs should use 2 accumulations"; echo "$out"; exit 1; }
# train.sbatch refuses settings it cannot act on before it starts anything (a job id is all it
# needs to get that far).
scratch=$(mktemp -d /tmp/biggan_jobs.XXXXXX)   # where a script that went too far would write
trap 'rm -rf "$scratch"' EXIT
bad_setting() {  # EXPECTED_MESSAGE VAR=VALUE
  set +e
  out=$(env SLURM_JOB_ID=1 SLURM_SUBMIT_DIR="$scratch" "$2" bash "$SRC/slurm/train.sbatch" \
        --config "$SRC/configs/fmnist_demo.yaml" 2>&1)
  code=$?
  set -e
  [[ $code == 2 ]] || { echo "FAIL: $2 exited $code, expected 2"; echo "$out"; exit 1; }
  grep -q -- "$1" <<<"$out" || { echo "FAIL: $2: no '$1' in:"; echo "$out"; exit 1; }
  [[ -z $(ls -A "$scratch") ]] || { echo "FAIL: $2: train.sbatch wrote before refusing:"; ls -R "$scratch"; exit 1; }
}
bad_setting "BIGGAN_MAX_RESTARTS=abc is not a whole number" BIGGAN_MAX_RESTARTS=abc
bad_setting "BIGGAN_MAX_STALLED=-1 is not a whole number" BIGGAN_MAX_STALLED=-1
bad_setting "BIGGAN_REQUEUE=sometimes is not one of auto, requeue, resubmit, none" BIGGAN_REQUEUE=sometimes
bad_setting "BIGGAN_LAUNCHER=torchrun is not one of srun, mpirun" BIGGAN_LAUNCHER=torchrun
# ... and jobs/submit.sh refuses them before it queues anything.
set +e
out=$(BIGGAN_REQUEUE=sometimes bash "$SRC/jobs/launch_fmnist_demo.sh" 2>&1)
code=$?
set -e
[[ $code == 2 ]] || { echo "FAIL: submitting with BIGGAN_REQUEUE=sometimes exited $code, expected 2"; echo "$out"; exit 1; }
grep -q "BIGGAN_REQUEUE=sometimes is not one of" <<<"$out" || { echo "FAIL: submit did not name the setting"; echo "$out"; exit 1; }
grep -q "^sbatch " <<<"$out" && { echo "FAIL: submit built an sbatch command despite the bad setting"; echo "$out"; exit 1; }
# A trainer killed in the middle of an events.jsonl line: train.sbatch's own events start on a
# line of their own (here the restart limit's, which needs no Slurm), the torn text left for the
# trainer to move to logs/superseded/.
run_dir=$scratch/runs/torn
mkdir -p "$run_dir/logs"
printf '{"time":1,"event":"resume","itr":7}\n{"time":2,"ev' >"$run_dir/logs/events.jsonl"
set +e
out=$(env SLURM_JOB_ID=1 SLURM_RESTART_COUNT=3 BIGGAN_MAX_RESTARTS=2 SLURM_SUBMIT_DIR="$scratch" bash "$SRC/slurm/train.sbatch" \
      --config "$SRC/configs/fmnist_demo.yaml" --set "paths.runs_root=$scratch/runs" --set paths.experiment_name=torn 2>&1)
code=$?
set -e
[[ $code == 1 ]] || { echo "FAIL: the restart limit exited $code, expected 1"; echo "$out"; exit 1; }
/usr/bin/python3 - "$run_dir/logs/events.jsonl" <<'PY' || { echo "FAIL: train.sbatch's events after a torn line"; cat "$run_dir/logs/events.jsonl"; exit 1; }
import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[:2] == ['{"time":1,"event":"resume","itr":7}', '{"time":2,"ev'], lines
events = [json.loads(l) for l in lines[2:] if l]
assert [e["event"] for e in events] == ["job_start", "restart_limit"], events
assert all(e["itr"] == 7 for e in events), events
PY
# The stop signal early in a job (Slurm sends it to the batch shell only): while the config is
# resolved it must not kill train.sbatch, and the step is then not started at all. While the
# ranks start it is held back until the trainer's start event of this job start: before that a
# rank may still be loading and would die of it. srun may drop the first one, so it is repeated.
# A rank that dies while loading of a stop signal someone else sent it is a clean stop, not a
# failure. Every way the job asks for a requeue (exit 3; BIGGAN_REQUEUE=none keeps scontrol out).
# A stand-in for biggan sends the signal at the chosen moment and plays the trainer's start.
cat >"$scratch/biggan" <<EOF
#!/usr/bin/env bash
rank=\${OMPI_COMM_WORLD_RANK:-0}
signal_sbatch() {
  while [[ ! -s $scratch/sbatch.pid ]]; do sleep 0.05; done
  kill -USR2 \$(cat $scratch/sbatch.pid)
}
# As the trainer starts: every rank catches the signal (here, then a file barrier), then rank 0
# writes the start event of this job start. Before that, a signal ends a rank (default action).
start_like_the_trainer() {  # DROP_FIRST
  caught=0
  if [[ \$1 == 1 ]]; then trap 'trap "caught=1" USR2' USR2; else trap 'caught=1' USR2; fi
  touch $scratch/catching.\$rank
  if [[ \$rank == 0 ]]; then
    while [[ ! -e $scratch/catching.1 ]]; do sleep 0.05; done
    echo '{"event":"start","itr":0,"job_id":"1","restart_count":0,"time":1}' >>$scratch/runs/early/logs/events.jsonl
  fi
  # mpirun signals a rank's whole process group: a child (seq, sleep) may die of the signal, so
  # the wait counts in the shell itself (a killed \$(seq 300) once made it 0 rounds, in CI).
  local end=\$((SECONDS + 30))
  while ((!caught && SECONDS < end)); do sleep 0.1; done
  ((caught)) || exit 1
  echo "rank \$rank caught USR2" >>$scratch/ranks.txt
  exit 3
}
case " \$* " in
  *" --print-run-dir "*) [[ \$WHEN == resolve ]] && signal_sbatch ;;
  *" --print-config "*) ;;
  *) echo "rank started" >>$scratch/ranks.txt
     case \$WHEN in
       start) [[ \$rank == 0 ]] && signal_sbatch; sleep 2; start_like_the_trainer 0 ;;
       lost) [[ \$rank == 0 ]] && signal_sbatch; start_like_the_trainer 1 ;;
       # Sent to the ranks themselves as well (scancel --full --signal) while they load.
       direct) [[ \$rank == 0 ]] && signal_sbatch; sleep 0.5; kill -USR2 \$\$ ;;
       # As the kernel's OOM killer does: rank 1 dies of SIGKILL, and cannot say why.
       killed) [[ \$rank == 1 ]] && kill -9 \$\$ ;;
       late) exit 3 ;;  # stopped cleanly by itself (the job's deadline)
     esac ;;
esac
exec "$BIN" "\$@"
EOF
chmod +x "$scratch/biggan"
# run_sbatch NAME [VAR=VALUE ...]: train.sbatch with the stand-in biggan on 2 local ranks, the
# run named NAME started afresh, the output in NAME.log, the script's pid in sbatch.pid (where the
# stand-ins find it); returns the script's exit code.
run_sbatch() {
  local name=$1; shift
  rm -rf "$scratch/runs/$name" "$scratch/sbatch.pid"
  env BIGGAN_BIN="$scratch/biggan" BIGGAN_LAUNCHER=mpirun BIGGAN_REQUEUE=none SLURM_JOB_ID=1 \
    SLURM_SUBMIT_DIR="$scratch" OMPI_MCA_rmaps_base_oversubscribe=1 "$@" bash "$SRC/slurm/train.sbatch" \
    --config "$SRC/configs/fmnist_demo.yaml" --set "paths.runs_root=$scratch/runs" --set "paths.experiment_name=$name" \
    >"$scratch/$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$scratch/sbatch.pid"
  wait "$pid"
}
early_stop() {  # WHEN EXPECTED_MESSAGE
  rm -f "$scratch/ranks.txt" "$scratch"/catching.*
  local code=0
  run_sbatch early WHEN="$1" || code=$?
  [[ $code == 3 ]] || { echo "FAIL: a stop signal at '$1' exited $code, expected 3"; cat "$scratch/early.log"; exit 1; }
  grep -q -- "$2" "$scratch/early.log" || { echo "FAIL: at '$1': no '$2' in:"; cat "$scratch/early.log"; exit 1; }
  grep -q '"event":"stopped"' "$scratch/runs/early/logs/events.jsonl" ||
    { echo "FAIL: at '$1': no stopped event"; cat "$scratch/runs/early/logs/events.jsonl"; exit 1; }
}
early_stop resolve "got USR2 before the training step started: not starting it"
[[ ! -e $scratch/ranks.txt ]] || { echo "FAIL: the step was started after a stop signal"; exit 1; }
for when in start lost; do
  early_stop "$when" "stopped cleanly at iteration 0; BIGGAN_REQUEUE=none"
  [[ $(grep -c "caught USR2" "$scratch/ranks.txt") == 2 ]] ||
    { echo "FAIL: at '$when': not both ranks caught the signal"; cat "$scratch/ranks.txt" "$scratch/early.log"; exit 1; }
done
early_stop direct "the step ended by USR2 while its ranks were starting: nothing was lost"
# The warning after the step has ended, while the script submits the follow-up job (a trainer
# that stopped by itself at the job's deadline, and Slurm's warning right after): the script must
# go on and submit it, not die of the signal and end the chain. Stand-ins for sbatch (sends the
# signal, then answers a job id) and scontrol (no controller).
mkdir -p "$scratch/slurm_bin"
cat >"$scratch/slurm_bin/sbatch" <<EOF
#!/usr/bin/env bash
kill -USR2 \$(cat $scratch/sbatch.pid)
sleep 0.5
echo 99
EOF
printf '#!/bin/sh\nexit 1\n' >"$scratch/slurm_bin/scontrol"
chmod +x "$scratch/slurm_bin/sbatch" "$scratch/slurm_bin/scontrol"
code=0
run_sbatch late WHEN=late PATH="$scratch/slurm_bin:$PATH" BIGGAN_REQUEUE=resubmit BIGGAN_SBATCH_SCRIPT="$SRC/slurm/train.sbatch" ||
  code=$?
[[ $code == 0 ]] || { echo "FAIL: a warning while the follow-up job was submitted: exit $code, expected 0"; cat "$scratch/late.log"; exit 1; }
grep -q "follow-up job 99 starts when this one ends" "$scratch/late.log" || { echo "FAIL: no follow-up job in:"; cat "$scratch/late.log"; exit 1; }
grep -q '"event":"resubmit".*"follow_up_job":"99"' "$scratch/runs/late/logs/events.jsonl" ||
  { echo "FAIL: no resubmit event"; cat "$scratch/runs/late/logs/events.jsonl"; exit 1; }
# A rank killed outright (exit 137): a failure, no requeue, and the likely cause named.
code=0
run_sbatch killed WHEN=killed || code=$?
[[ $code == 137 ]] || { echo "FAIL: a killed rank exited $code, expected 137"; cat "$scratch/killed.log"; exit 1; }
grep -q "exit code 137: a rank was killed (SIGKILL), most often by the kernel for going over the job's memory" \
  "$scratch/killed.log" || { echo "FAIL: no out-of-memory hint for exit 137"; cat "$scratch/killed.log"; exit 1; }
grep -q '"event":"failed"' "$scratch/runs/killed/logs/events.jsonl" ||
  { echo "FAIL: no failed event"; cat "$scratch/runs/killed/logs/events.jsonl"; exit 1; }
echo "jobs: $count launch scripts resolve; impossible layouts and bad train.sbatch settings are refused;"
echo "train.sbatch's events stay whole after a torn line; an early stop signal asks for a requeue, a late one"
echo "does not keep the follow-up job from being submitted;"
echo "a rank killed outright is a failure that names the likely cause"
