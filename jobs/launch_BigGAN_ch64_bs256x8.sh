#!/usr/bin/env bash
# BigGAN-PyTorch scripts/launch_BigGAN_ch64_bs256x8.sh.
# BigGAN 128x128 at width 64, global batch 2048 on one node of 8 GPUs.
# Scale with NODES and GPUS_PER_NODE: the accumulation count follows, the global batch stays.
#   jobs/launch_BigGAN_ch64_bs256x8.sh [biggan train options ...]      e.g. NODES=2 jobs/launch_BigGAN_ch64_bs256x8.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec jobs/submit.sh configs/biggan128_ch64_bs256x8.yaml "${NODES:-1}" "${GPUS_PER_NODE:-8}" "$@"
