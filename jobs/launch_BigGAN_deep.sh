#!/usr/bin/env bash
# BigGAN-PyTorch scripts/launch_BigGAN_deep.sh.
# BigGAN-deep 128x128 (ch 128, 2 blocks per resolution), global batch 2048 on one node of 8 GPUs.
# Scale with NODES and GPUS_PER_NODE: the accumulation count follows, the global batch stays.
#   jobs/launch_BigGAN_deep.sh [biggan train options ...]      e.g. NODES=2 jobs/launch_BigGAN_deep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec jobs/submit.sh configs/biggandeep128_bs256x8.yaml "${NODES:-1}" "${GPUS_PER_NODE:-8}" "$@"
