#!/usr/bin/env bash
# wait_job.sh JOBID [TIMEOUT_SECONDS]: polls the job every 0.25 s until it reaches a final state
# (sbatch --wait polls only at 2, 10 and 42 s), prints "STATE EXITCODE" and exits with the job's
# exit code (128+signal when a signal ended it; 124 on timeout, after cancelling the job).
set -uo pipefail
id=$1 limit=${2:-300}
deadline=$((SECONDS + limit))
while :; do
  line=$(scontrol show job -o "$id" 2>/dev/null)
  state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$line")
  case $state in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
      code=$(sed -n 's/.* ExitCode=\([0-9]*\):\([0-9]*\).*/\1 \2/p' <<<"$line")
      read -r status signal <<<"$code"
      echo "$state ${status}:${signal}"
      if [[ ${signal:-0} != 0 ]]; then exit $((128 + signal)); fi
      exit "${status:-1}"
      ;;
  esac
  if ((SECONDS >= deadline)); then
    echo "TIMEOUT-WAITING ${state:-unknown}"
    scancel "$id" 2>/dev/null
    exit 124
  fi
  sleep 0.25
done
