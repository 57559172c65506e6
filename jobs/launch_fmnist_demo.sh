#!/usr/bin/env bash
# Ours: the Fashion-MNIST demo (README) as a Slurm job on CPUs.
# Two ranks on one node, one core each, no GPU; prepare the data first (scripts/demo.sh does).
# Scale with NODES and GPUS_PER_NODE: the accumulation count follows, the global batch stays.
#   jobs/launch_fmnist_demo.sh [biggan train options ...]      e.g. NODES=2 jobs/launch_fmnist_demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${GPUS_PER_TASK:=0}" "${CPUS_PER_TASK:=1}" "${TIME:=01:00:00}"
export GPUS_PER_TASK CPUS_PER_TASK TIME
exec jobs/submit.sh configs/fmnist_demo.yaml "${NODES:-1}" "${GPUS_PER_NODE:-2}" "$@"
