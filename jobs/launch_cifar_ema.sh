#!/usr/bin/env bash
# BigGAN-PyTorch scripts/launch_cifar_ema.sh.
# BigGAN on CIFAR-10 32x32 with EMA on one GPU.
# Scale with NODES and GPUS_PER_NODE: the accumulation count follows, the global batch stays.
#   jobs/launch_cifar_ema.sh [biggan train options ...]      e.g. NODES=2 jobs/launch_cifar_ema.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec jobs/submit.sh configs/cifar10_ema.yaml "${NODES:-1}" "${GPUS_PER_NODE:-1}" "$@"
