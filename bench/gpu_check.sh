#!/usr/bin/env bash
# GPU check for a machine with a CUDA PyTorch (pip wheel), Open MPI and NCCL, but without Debian's
# packages: bench/gpu_build.sh unpacks the carried .debs and builds `biggan` against the wheel's
# LibTorch; this times a few 128 px BigGAN iterations in fp32 and bf16 on
# one GPU (micro-batch 64, then the paper's 256), and samples sheets from the fp32 run
# (GPU_CHECK_MODE=quick: the fp32 run, a resume on the GPU and the sampling only).
# Writes build.log, runs.log, summary.jsonl and one sample sheet to $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }
source bench/gpu_build.sh
synthetic_imagenet
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
    # NHWC activations (model.channels_last: auto is NHWC on CUDA) against NCHW, fp32: measured on CPU only.
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
runs=(/tmp/runs_fp32_b64/*/)
run=""; [ -d "${runs[0]}" ] && run=${runs[0]}
if [ -n "$run" ] && [ "$(elapsed)" -lt 500 ]; then
  echo "=== sample at $(elapsed) s" >>"$OUT/runs.log"
  t0=$EPOCHREALTIME
  timeout -k 10 150 build-gpu/biggan sample --run "$run" --set sample.sample_sheets=true --set sample.sample_interps=true \
    --output /tmp/sample_out >>"$OUT/runs.log" 2>&1 &&
    echo "sample ok in $(awk "BEGIN{print $EPOCHREALTIME - $t0}") s: $(ls /tmp/sample_out /tmp/sample_out/* | wc -l) files" ||
    echo "sample failed (exit $?)"
  for sheet in /tmp/sample_out/*/interp*.png "$run"/samples/*/interp*.png; do
    [ -f "$sheet" ] && { cp "$sheet" "$OUT/sheet.png"; break; }
  done
fi
echo "done at $(elapsed) s"
