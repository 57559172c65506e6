#!/usr/bin/env bash
# GPU check for a machine with a CUDA PyTorch (pip wheel), Open MPI and NCCL, but without Debian's
# parallel HDF5, yaml-cpp, stb, Boost.PO, libzip and nlohmann-json. Unpacks Debian bookworm
# packages carried in .debs/ into /opt/bg:
#   cd .debs && apt-get download libhdf5-openmpi-dev libhdf5-openmpi-103-1 libyaml-cpp-dev \
#     libyaml-cpp0.7 libstb-dev libstb0 libboost1.74-dev libboost-program-options1.74-dev \
#     libboost-program-options1.74.0 libzip-dev libzip4 nlohmann-json3-dev zlib1g-dev \
#     libjpeg62-turbo-dev libjpeg62-turbo libpng-dev libpng16-16 liblzf-dev liblzf1 \
#     libjemalloc-dev libjemalloc2
#   mkdir -p fallback && cd fallback && apt-get download libaec0 libsz2 libbz2-1.0
# (.debs/fallback holds runtime libraries used only where the machine lacks that soname), builds
# `biggan` against the wheel's LibTorch, times a few 128 px BigGAN iterations in fp32 and bf16 on
# one GPU (micro-batch 64, then the paper's 256), and samples sheets from the fp32 run
# (GPU_CHECK_MODE=quick: the fp32 run, a resume on the GPU and the sampling only).
# Writes build.log, runs.log, summary.jsonl and one sample sheet to $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }
P=/opt/bg
mkdir -p $P /opt/bgx
for d in .debs/*.deb; do dpkg -x "$d" $P; done
for d in .debs/fallback/*.deb; do [ -e "$d" ] && dpkg -x "$d" /opt/bgx; done
# Keep only the fallback libraries whose soname the machine does not have.
for so in $(find /opt/bgx -name 'lib*.so.*' 2>/dev/null); do
  ldconfig -p | grep -q " $(basename "$so") " && rm -f "$so"
done
L=$P/usr/lib/x86_64-linux-gnu
[ -e $L/libz.so ] || ln -sf "$(ldconfig -p | awk '/libz.so.1 .*x86-64/{print $NF; exit}')" $L/libz.so
sed -i "s|^prefix=\"/usr\"|prefix=\"$P/usr\"|; s|mpicc.openmpi|mpicc|g" $P/usr/bin/h5pcc.openmpi
export LD_LIBRARY_PATH=$L:$L/hdf5/openmpi:$(find /opt/bgx -type d -name x86_64-linux-gnu | tr '\n' ':')${LD_LIBRARY_PATH:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HDF5_USE_FILE_LOCKING=FALSE
export TORCH_SHOW_CPP_STACKTRACES=1
TORCH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } | tee "$OUT/build.log"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DBIGGAN_BUILD_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$TORCH;$P/usr" -DHDF5_C_COMPILER_EXECUTABLE=$P/usr/bin/h5pcc.openmpi \
  -DBoost_DIR=$L/cmake/Boost-1.74.0 -DCMAKE_EXE_LINKER_FLAGS=-rdynamic \
  -DSTB_INCLUDE_DIR=$P/usr/include/stb -DSTB_LIBRARY=$L/libstb.so \
  -DPKG_CONFIG_EXECUTABLE=/nonexistent -DLIBZIP_INCLUDE_DIR=$P/usr/include -DLIBZIP_LIBRARY=$L/libzip.so \
  >>"$OUT/build.log" 2>&1 || { echo "configure failed"; grep -iE "error|not found" -A3 "$OUT/build.log" | head -40; exit 1; }
grep -E "CUDA|NCCL|Torch" "$OUT/build.log" | head -8
cmake --build build-gpu -j16 --target biggan -- -k 0 >>"$OUT/build.log" 2>&1 ||
  { echo "build failed"; grep -E "error" -A2 "$OUT/build.log" | head -60; exit 1; }
echo "configured and built at $(elapsed) s"
ldd build-gpu/biggan | grep "not found"
build-gpu/biggan --version
python3 - <<'PY'
import h5py, numpy as np, os
os.makedirs("/tmp/syn", exist_ok=True)
rng = np.random.default_rng(0)
with h5py.File("/tmp/syn/ILSVRC128.hdf5", "w") as f:
    f.create_dataset("imgs", data=rng.integers(0, 256, (2048, 3, 128, 128), dtype=np.uint8), chunks=(256, 3, 128, 128))
    f.create_dataset("labels", data=rng.integers(0, 1000, 2048).astype(np.int64), chunks=(256,))
PY
# name batch iterations precision [extra --set ...]: one run, its timings as a JSON line
train() {
  local name=$1 batch=$2 iterations=$3 precision=$4; shift 4
  echo "=== train $name (batch $batch, $iterations iterations, $precision) at $(elapsed) s" >>"$OUT/runs.log"
  local t0=$EPOCHREALTIME
  timeout -k 20 150 build-gpu/biggan train --config configs/biggan128_bs256x8.yaml --set data.data_root=/tmp/syn \
    --set train.global_batch_size=0 --set train.batch_size=$batch --set train.total_iterations=$iterations \
    --set ckpt.save_every=1000 --set eval.test_every=0 --set log.pbar=none --set paths.runs_root=/tmp/runs_$name \
    --set model.G_precision=$precision --set model.D_precision=$precision "$@" >>"$OUT/runs.log" 2>&1 ||
    { echo "train $name failed"; tail -25 "$OUT/runs.log"; return 1; }
  python3 - "$name" "$batch" "$precision" "$(awk "BEGIN{print $EPOCHREALTIME - $t0}")" <<'PY'
import glob, json, sys
rows = [json.loads(l) for l in open(glob.glob(f"/tmp/runs_{sys.argv[1]}/*/logs/metrics.jsonl")[0])]
t = sorted(r["seconds_per_iteration"] for r in rows[3:])
print(json.dumps({"run": sys.argv[1], "batch": int(sys.argv[2]), "precision": sys.argv[3], "iterations": len(rows),
                  "process_seconds": float(sys.argv[4]), "first_iteration_seconds": rows[0]["seconds_per_iteration"],
                  "median_seconds_per_iteration": t[len(t)//2], "min_seconds_per_iteration": t[0],
                  "images_per_second": int(sys.argv[2]) / t[len(t)//2], "last_G_loss": rows[-1]["G_loss"],
                  "last_D_loss_real": rows[-1]["D_loss_real"], "last_D_loss_fake": rows[-1]["D_loss_fake"]}))
PY
}
# GPU_CHECK_MODE=quick: the fp32 run only, then a resume on the GPU and `biggan sample`.
{
  train fp32_b64 64 12 fp32 && ls /tmp/runs_fp32_b64/*/samples/ >>"$OUT/runs.log"
  if [ "${GPU_CHECK_MODE:-full}" = full ]; then
    train bf16_b64 64 12 bf16
    # NHWC activations (model.channels_last, the default) against NCHW, fp32: measured on CPU only.
    [ "$(elapsed)" -lt 300 ] && train fp32_b64_nchw 64 12 fp32 --set model.channels_last=false
    # DiffAugment on the card under bf16 autocast: it runs, and what it costs beside bf16_b64.
    [ "$(elapsed)" -lt 360 ] && train bf16_b64_diffaug 64 12 bf16 --set train.diffaug=color,translation,cutout
    [ "$(elapsed)" -lt 420 ] && train bf16_b256 256 8 bf16
    [ "$(elapsed)" -lt 450 ] && train fp32_b256 256 8 fp32
  else
    # Resume on the GPU from the CPU-side checkpoint files: 4 more iterations.
    train fp32_b64 64 16 fp32 && grep -h "resumed from" "$OUT/runs.log" | tail -1
  fi
} | tee "$OUT/summary.jsonl"
run=$(ls -d /tmp/runs_fp32_b64/*/ 2>/dev/null | head -1)
if [ -n "$run" ] && [ "$(elapsed)" -lt 500 ]; then
  echo "=== sample at $(elapsed) s" >>"$OUT/runs.log"
  t0=$EPOCHREALTIME
  timeout -k 10 150 build-gpu/biggan sample --run "$run" --set sample.sample_sheets=true --set sample.sample_interps=true \
    --output /tmp/sample_out >>"$OUT/runs.log" 2>&1 &&
    echo "sample ok in $(awk "BEGIN{print $EPOCHREALTIME - $t0}") s: $(ls /tmp/sample_out /tmp/sample_out/* | wc -l) files" ||
    echo "sample failed (exit $?)"
  cp "$(ls /tmp/sample_out/*/interp*.png "$run"/samples/*/interp*.png 2>/dev/null | head -1)" "$OUT/sheet.png" 2>/dev/null
fi
echo "done at $(elapsed) s"
