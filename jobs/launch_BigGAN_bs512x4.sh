#!/usr/bin/env bash
# BigGAN-PyTorch scripts/launch_BigGAN_bs512x4.sh.
# BigGAN 128x128, micro-batch 512, global batch 2048 on one node of 4 GPUs (512 x 1 x 4).
# Scale with NODES and GPUS_PER_NODE: the accumulation count follows, the global batch stays.
#   jobs/launch_BigGAN_bs512x4.sh [biggan train options ...]      e.g. NODES=2 jobs/launch_BigGAN_bs512x4.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec jobs/submit.sh configs/biggan128_bs512x4.yaml "${NODES:-1}" "${GPUS_PER_NODE:-4}" "$@"
