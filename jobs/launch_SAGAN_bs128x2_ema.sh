#!/usr/bin/env bash
# BigGAN-PyTorch scripts/launch_SAGAN_bs128x2_ema.sh.
# SA-GAN 128x128 with EMA, global batch 256 = 128 x 2 accumulations on one GPU, or 128 x 1 x 2 GPUs.
# Scale with NODES and GPUS_PER_NODE: the accumulation count follows, the global batch stays.
#   jobs/launch_SAGAN_bs128x2_ema.sh [biggan train options ...]      e.g. NODES=2 jobs/launch_SAGAN_bs128x2_ema.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec jobs/submit.sh configs/sagan128_bs128x2_ema.yaml "${NODES:-1}" "${GPUS_PER_NODE:-2}" "$@"
