#!/usr/bin/env bash
# Stops the cluster that cluster_up.sh started in $SLURM_TEST_DIR, by PID only: cancels the
# jobs, stops slurmd(s) and slurmctld, kills slurmstepd processes left behind (and their
# children), then munged. Safe to call twice or on a half-started cluster.
set -uo pipefail
D=${SLURM_TEST_DIR:?}
[[ -d $D ]] || exit 0
D=$(cd "$D" && pwd)
export SLURM_CONF=$D/etc/slurm.conf
PATH=$PATH:/usr/sbin

pid_of() { [[ -f $1 ]] && cat "$1" 2>/dev/null; }
stop_pid() {  # pid, seconds before SIGKILL
  local pid=$1 grace=$2
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((t = 0; t < grace * 10; ++t)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
}
kill_tree() {
  local pid=$1 child
  for child in $(pgrep -P "$pid" 2>/dev/null); do kill_tree "$child"; done
  kill -KILL "$pid" 2>/dev/null
}

ctld=$(pid_of "$D/run/slurmctld.pid")
if [[ -n $ctld ]] && kill -0 "$ctld" 2>/dev/null; then
  scancel --full --signal=KILL $(squeue -h -o %i 2>/dev/null) 2>/dev/null
  scancel $(squeue -h -o %i 2>/dev/null) 2>/dev/null
  for ((t = 0; t < 80; ++t)); do
    [[ -z $(squeue -h -t R,CG -o %i 2>/dev/null) ]] && break
    sleep 0.1
  done
fi
# Stepds that outlive their slurmd are recognised by an open file under $D (their log or spool).
stepds=()
for pid in $(pgrep -x slurmstepd 2>/dev/null); do
  if [[ $(ls -l "/proc/$pid/fd" 2>/dev/null) == *"$D/"* ]] || [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$D"* ]]; then
    stepds+=("$pid")
  fi
done
for f in "$D"/run/slurmd-*.pid; do [[ -f $f ]] && stop_pid "$(pid_of "$f")" 10; done
stop_pid "$ctld" 10
for pid in "${stepds[@]}"; do kill_tree "$pid"; done
stop_pid "$(pid_of "$D/run/munged.pid")" 10
exit 0
