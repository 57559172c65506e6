#!/usr/bin/env bash
# Preparation throughput: `biggan prepare-data --source imagefolder` on JPEGs of ImageNet-like
# sizes, on 1 and 2 ranks, next to PIL + torchvision doing BigGAN-PyTorch's transform on one
# process (its make_hdf5.py path without the DataLoader). Prints one JSON object.
#
# usage: bench/prepare_bench.sh [--images N] [--resolution R] [--biggan PATH] [--work DIR]
# The images are made once per N in the work folder (default /tmp/biggan-prepare-bench).
set -euo pipefail

images=400
resolution=128
root=$(cd "$(dirname "$0")/.." && pwd)
biggan="$root/build/biggan"
work=/tmp/biggan-prepare-bench
while [[ $# -gt 0 ]]; do
  case "$1" in
    --images) images=$2; shift 2 ;;
    --resolution) resolution=$2; shift 2 ;;
    --biggan) biggan=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "prepare_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x "$biggan" ]] || { echo "prepare_bench.sh: $biggan is not built" >&2; exit 1; }
python=/usr/bin/python3
folder="$work/jpegs_$images"
mkdir -p "$work"

if [[ ! -f "$folder/.complete" ]]; then
  rm -rf "$folder"
  # Smooth gradients plus noise, quality 90, sizes drawn like ImageNet's (mostly 500 x 375/333).
  "$python" - "$folder" "$images" <<'EOF'
import os, sys
import numpy as np
from PIL import Image
folder, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
sizes = [(500, 375), (500, 333), (375, 500), (500, 500), (640, 480), (333, 500), (800, 600)]
for i in range(n):
    cls = f"n{i % 10:08d}"
    os.makedirs(os.path.join(folder, cls), exist_ok=True)
    w, h = sizes[int(rng.integers(len(sizes)))]
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 255 // (w + h))], -1)
    img = np.clip(base + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(os.path.join(folder, cls, f"img_{i:06d}.JPEG"), quality=90)
open(os.path.join(folder, ".complete"), "w").close()
EOF
fi

run_ranks() {  # ranks -> seconds of the whole command
  local ranks=$1 out="$work/out_$1.hdf5" start end
  rm -f "$out"
  start=$(date +%s.%N)
  OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np "$ranks" "$biggan" prepare-data \
    --source imagefolder --input "$folder" --resolution "$resolution" --no-shuffle --progress none \
    --output "$out" >/dev/null 2>"$work/err_$ranks.txt" || { cat "$work/err_$ranks.txt" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

pil_seconds=$("$python" - "$folder" "$resolution" <<'EOF'
import os, sys, time
from PIL import Image
import torchvision.transforms.functional as F
folder, res = sys.argv[1], int(sys.argv[2])
files = sorted(os.path.join(r, f) for r, _, fs in os.walk(folder) for f in fs if f.endswith(".JPEG"))
start = time.perf_counter()
for f in files:
    with open(f, "rb") as fh:
        img = Image.open(fh).convert("RGB")
    img = F.resize(F.center_crop(img, min(img.size)), res)
    F.to_tensor(img)
print(time.perf_counter() - start)
EOF
)
one=$(run_ranks 1)
two=$(run_ranks 2)

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
"$python" - "$images" "$resolution" "$one" "$two" "$pil_seconds" "$cpu" "$(nproc)" <<'EOF'
import json, sys
n, res, one, two, pil, cpu, cores = sys.argv[1:]
n = int(n)
print(json.dumps({
    "benchmark": "prepare_imagefolder_jpeg", "images": n, "resolution": int(res),
    "cpu": cpu, "cores": int(cores), "threads_per_rank": 1,
    "biggan_1_rank_images_per_s": round(n / float(one), 1),
    "biggan_2_ranks_images_per_s": round(n / float(two), 1),
    "pil_torchvision_1_process_images_per_s": round(n / float(pil), 1),
    "note": "whole command wall time, including the unreadable-image check pass and the HDF5 write",
}, indent=2))
EOF
