#!/usr/bin/env bash
# BigGAN-PyTorch scripts/launch_SNGAN.sh.
# SN-GAN 128x128 (5 D steps, betas 0/0.9) on one GPU.
# Scale with NODES and GPUS_PER_NODE: the accumulation count follows, the global batch stays.
#   jobs/launch_SNGAN.sh [biggan train options ...]      e.g. NODES=2 jobs/launch_SNGAN.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec jobs/submit.sh configs/sngan128.yaml "${NODES:-1}" "${GPUS_PER_NODE:-1}" "$@"
