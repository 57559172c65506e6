#!/usr/bin/env bash
# GPU check for a machine with a CUDA PyTorch (pip wheel) and NCCL, but without Debian's
# parallel HDF5, yaml-cpp, stb and Boost.PO: unpack Debian bookworm packages carried in .debs/
# (apt-get download libhdf5-openmpi-dev libhdf5-openmpi-103-1 libyaml-cpp-dev libyaml-cpp0.7
# libstb-dev libstb0 libboost1.74-dev libboost-program-options1.74-dev libboost-program-options1.74.0 libzip-dev libzip4) into /opt/bg, build `biggan` against the wheel's LibTorch, and time a few
# 128 px BigGAN iterations in fp32 and bf16 on one GPU. Writes logs and a JSON summary to $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
P=/opt/bg
mkdir -p $P
for d in .debs/*.deb; do dpkg -x "$d" $P; done
sed -i "s|^prefix=\"/usr\"|prefix=\"$P/usr\"|; s|mpicc.openmpi|mpicc|g" $P/usr/bin/h5pcc.openmpi
export LD_LIBRARY_PATH=$P/usr/lib/x86_64-linux-gnu:$P/usr/lib/x86_64-linux-gnu/hdf5/openmpi:${LD_LIBRARY_PATH:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HDF5_USE_FILE_LOCKING=FALSE
TORCH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
t0=$(date +%s)
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DBIGGAN_BUILD_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$TORCH;$P/usr" -DHDF5_C_COMPILER_EXECUTABLE=$P/usr/bin/h5pcc.openmpi \
  -DBoost_DIR=$P/usr/lib/x86_64-linux-gnu/cmake/Boost-1.74.0 \
  -DSTB_INCLUDE_DIR=$P/usr/include/stb -DSTB_LIBRARY=$P/usr/lib/x86_64-linux-gnu/libstb.so \
  -DPKG_CONFIG_EXECUTABLE=/nonexistent -DLIBZIP_INCLUDE_DIR=$P/usr/include -DLIBZIP_LIBRARY=$P/usr/lib/x86_64-linux-gnu/libzip.so \
  >"$OUT/cmake.log" 2>&1 || { echo "configure failed"; grep -iE "error|not found" -A3 "$OUT/cmake.log" | head -40; exit 1; }
grep -E "CUDA|NCCL|Torch" "$OUT/cmake.log" | head -8
cmake --build build-gpu -j16 --target biggan -- -k 0 >"$OUT/build.log" 2>&1 ||
  { echo "build failed"; grep -E "error" -A2 "$OUT/build.log" | head -60; exit 1; }
echo "configured and built in $(( $(date +%s) - t0 )) s"
build-gpu/biggan --version
python3 - <<'PY'
import h5py, numpy as np, os
os.makedirs("/tmp/syn", exist_ok=True)
rng = np.random.default_rng(0)
with h5py.File("/tmp/syn/ILSVRC128.hdf5", "w") as f:
    f.create_dataset("imgs", data=rng.integers(0, 256, (2048, 3, 128, 128), dtype=np.uint8), chunks=(500, 3, 128, 128))
    f.create_dataset("labels", data=rng.integers(0, 1000, 2048).astype(np.int64), chunks=(500,))
PY
for precision in fp32 bf16; do
  build-gpu/biggan train --config configs/biggan128_bs256x8.yaml --set data.data_root=/tmp/syn \
    --set train.global_batch_size=0 --set train.batch_size=64 --set train.total_iterations=12 \
    --set ckpt.save_every=1000 --set eval.test_every=0 --set log.pbar=none --set paths.runs_root=/tmp/runs_$precision \
    --set model.G_precision=$precision --set model.D_precision=$precision >"$OUT/train_$precision.log" 2>&1 ||
    { echo "train $precision failed"; tail -20 "$OUT/train_$precision.log"; continue; }
  python3 - "$precision" <<'PY'
import glob, json, sys
rows = [json.loads(l) for l in open(glob.glob(f"/tmp/runs_{sys.argv[1]}/*/logs/metrics.jsonl")[0])]
t = sorted(r["seconds_per_iteration"] for r in rows[3:])
print(json.dumps({"precision": sys.argv[1], "iterations": len(rows), "median_seconds_per_iteration": t[len(t)//2],
                  "images_per_second": rows[-1]["images_per_second"], "last_G_loss": rows[-1]["G_loss"],
                  "last_D_loss_real": rows[-1]["D_loss_real"]}))
PY
done | tee "$OUT/summary.jsonl"
