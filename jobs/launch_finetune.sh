#!/usr/bin/env bash
# Fine-tuning: a new run on your own dataset that starts from pretrained weights (--init-from):
# a BigGAN-PyTorch weights folder, one of our checkpoints or a run folder. A requeued job starts
# with the same arguments and resumes its own checkpoints; SOURCE is read only once.
#   INIT_FROM=weights/138k CONFIG=my_finetune.yaml jobs/launch_finetune.sh [biggan train options ...]
# Defaults: configs/finetune_fmnist.yaml from runs/transfer/runs/source (scripts/transfer_experiment.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${GPUS_PER_TASK:=0}" "${CPUS_PER_TASK:=1}" "${TIME:=01:00:00}"
export GPUS_PER_TASK CPUS_PER_TASK TIME
exec jobs/submit.sh "${CONFIG:-configs/finetune_fmnist.yaml}" "${NODES:-1}" "${GPUS_PER_NODE:-2}" \
  --init-from "${INIT_FROM:-runs/transfer/runs/source}" "$@"
