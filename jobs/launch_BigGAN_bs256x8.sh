#!/usr/bin/env bash
# BigGAN-PyTorch scripts/launch_BigGAN_bs256x8.sh: the reference run.
# BigGAN 128x128 on ImageNet, global batch 2048 = 256 x 1 accumulation x 8 GPUs on one node.
# Scale with NODES and GPUS_PER_NODE: the accumulation count follows, the global batch stays.
#   jobs/launch_BigGAN_bs256x8.sh [biggan train options ...]      e.g. NODES=2 jobs/launch_BigGAN_bs256x8.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec jobs/submit.sh configs/biggan128_bs256x8.yaml "${NODES:-1}" "${GPUS_PER_NODE:-8}" "$@"
