#!/usr/bin/env bash
# Elastic resume: a 2-rank run (micro-batch b, 1 accumulation) stopped after iteration 15 and
# resumed on 1 rank continues with 2 accumulations of b: the same global batch, the same data
# positions and the same latents (keyed by the global slot, not by the rank). Its iteration 16 is
# compared with an uninterrupted 2-rank run.
#
# The one difference by design is spectral norm's power iteration, which advances once per
# forward: one rank with 2 accumulations steps u twice per optimizer step, each of 2 ranks once
# (BigGAN-PyTorch behaves the same way across those layouts). With BigGAN's single iteration
# and orthogonal init (equal singular values, so u wanders) that alone moves G's gradients by
# about 10% in one step. The test therefore runs SN to its fixed point (1000 power iterations per
# forward, N(0, 0.02) init, whose top singular value is separated) so that what is compared is
# everything else: weights, Adam state, EMA and losses must then agree to float tolerance. Adam's
# eps is BigGAN's ImageNet 1e-6: the convolution biases in front of batch norm have a gradient
# of exactly zero in exact arithmetic, and with eps 1e-8 Adam turns their float noise (1e-8)
# into steps of a whole learning rate, in different directions on the two layouts.
# Measured: updates agree to 1.3e-3 (G) and 4e-5 (D) of their norm, Adam state to 2e-6, losses
# to 5e-7; with BigGAN's 1 power iteration and ortho init the same comparison gives 2-6e-2.
# 200 power iterations were not enough on every CPU: on an Intel Xeon with AVX-512 (Sapphire
# Rapids, oneDNN's AVX-512 kernels) one of D's u vectors was still moving and the G update
# differed by 1.55e-2 (D Adam state 5e-4, losses 4.8e-4); with AVX2 kernels on the same machine
# 3.3e-3. With 400: G 1.4e-3, D 2e-6, G_ema 4.3e-4, losses 6e-7 (AVX-512); 1000 gave 1.8e-3.
# 400 was not enough either once OpenBLAS ran its AVX-512 and AVX2 kernels instead of its SSE3
# fallback (src/core/blas.h), on an Emerald Rapids Xeon: the G update differed by 5.3e-3
# (SkylakeX kernels) and 7.7e-3 (Haswell) with DiffAugment, 8.8e-3 and a loss difference of 3e-5
# without it under oneDNN's AVX2 kernels with OpenBLAS's Zen ones (the AMD EPYC machines). With
# 1000: G update 1.5e-3 and 1.8e-3 with DiffAugment (Adam state 3e-7, losses 8e-7 at most),
# 2.6e-3 and 5.8e-3 without (losses 2.8e-6 at most). Hence 1000, and 1e-2 for the updates.
# The layout is pinned to NHWC (model.channels_last=true; the default, auto, is NCHW on AVX2
# CPUs): with NCHW activations 1000 iterations are not the fixed point either. On a 2-core AMD
# EPYC (AVX2) NCHW gave G 7.0e-3, D 2.4e-3, G_ema 2.2e-3, D Adam state 3.2e-4 and a loss
# difference of 1.6e-3, spread evenly over D's convolution weights (u still moving, not a
# layout bug); with 3000 iterations G 1.7e-3, D 2.5e-6, loss 1.2e-6, but the test took 6 minutes
# instead of 2. NHWC on the same machine: G 2.6e-3, D 3.2e-6, loss 4.8e-7; on a 2-core AMD EPYC
# with AVX-512 (Zen 5): G 3.1e-3, D 1.9e-6, loss 1.0e-6 (2.0e-3, 1.1e-6, 3.0e-7 with DiffAugment).
#   elastic_resume_test.sh BIGGAN SOURCE_DIR [SV_ITRS INIT [--set KEY=VALUE ...]]
set -euo pipefail
BIN=$1 SRC=$2 SV_ITRS=${3:-1000} INIT=${4:-N02}
EXTRA=("${@:5}")
WORK=$(mktemp -d /tmp/biggan_elastic.XXXXXX)
trap 'pkill -f "$WORK" 2>/dev/null || true; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

"$BIN" prepare-data --source fmnist --split test --output "$WORK/data/FMNIST32.hdf5" --progress none >/dev/null
common=(train --config "$SRC/tests/configs/tiny_fmnist.yaml" --set "data.data_root=$WORK/data"
        --set paths.experiment_name=tiny --set ckpt.async_save=false
        --set model.num_G_SV_itrs=$SV_ITRS --set model.num_D_SV_itrs=$SV_ITRS --set model.G_init=$INIT --set model.D_init=$INIT
        --set optim.adam_eps=1e-6 --set model.channels_last=true "${EXTRA[@]}")

mpirun -np 2 "$BIN" "${common[@]}" --set "paths.runs_root=$WORK/straight" --set train.total_iterations=16 \
  >"$WORK/straight.log" 2>&1 || { echo "straight run failed"; cat "$WORK/straight.log"; exit 1; }
mpirun -np 2 "$BIN" "${common[@]}" --set "paths.runs_root=$WORK/elastic" --set train.total_iterations=15 --set ckpt.num_save_copies=3 \
  >"$WORK/first.log" 2>&1 || { echo "first half failed"; cat "$WORK/first.log"; exit 1; }
"$BIN" "${common[@]}" --set "paths.runs_root=$WORK/elastic" --set train.total_iterations=16 --set ckpt.num_save_copies=3 \
  >"$WORK/second.log" 2>&1 ||
  { echo "resume on 1 rank failed"; cat "$WORK/second.log"; exit 1; }
grep -q "resuming a 2-rank run on 1 ranks: 2 accumulations keep the global batch of 16" "$WORK/second.log" ||
  { echo "no elastic-resume message"; cat "$WORK/second.log"; exit 1; }

/usr/bin/python3 - "$WORK/straight/tiny" "$WORK/elastic/tiny" <<'PY'
import h5py, json, numpy as np, sys
straight_run, elastic_run = sys.argv[1:]
a, b = f"{straight_run}/checkpoints/itr00000016", f"{elastic_run}/checkpoints/itr00000016"
before = f"{elastic_run}/checkpoints/itr00000015"  # the 2-rank state both runs take step 16 from
state, straight = json.load(open(f"{b}/state.json")), json.load(open(f"{a}/state.json"))
assert state["world_size"] == 1 and state["num_D_accumulations"] == 2 and state["global_batch_size"] == 16, state
assert state["sampler"] == straight["sampler"], (state["sampler"], straight["sampler"])

def skip(k):
    # BN running statistics are EMAs over micro-batches in sequence (1 rank) or averaged over
    # ranks (2 ranks): different by construction and unused by training; u/sv are SN's state.
    return k.endswith(("stored_mean", "stored_var", "running_mean", "running_var", "num_batches_tracked", ".step")) \
        or k.rsplit(".", 1)[-1][:2] in ("u0", "sv")

def relative(f, minus_before):
    # ||difference|| / ||reference|| over the whole file: for the networks, of the update of step
    # 16 (parameters minus those at 15); for Adam, of the state (exp_avg is the gradient: beta1 0).
    with h5py.File(f"{a}/{f}") as x, h5py.File(f"{b}/{f}") as y, h5py.File(f"{before}/{f}") as z:
        assert set(x) == set(y), f
        keys = [k for k in x if not skip(k)]
        ref = [np.asarray(x[k], np.float64) - (np.asarray(z[k], np.float64) if minus_before else 0) for k in keys]
        got = [np.asarray(y[k], np.float64) - (np.asarray(z[k], np.float64) if minus_before else 0) for k in keys]
    num = np.sqrt(sum(((r - g) ** 2).sum() for r, g in zip(ref, got)))
    return num / np.sqrt(sum((r ** 2).sum() for r in ref))

results = {"G update": relative("G.h5", True), "D update": relative("D.h5", True),
           "G_ema update": relative("G_ema.h5", True), "G Adam state": relative("G_optim.h5", False),
           "D Adam state": relative("D_optim.h5", False)}
for name, value in results.items(): print(f"{name}: relative difference {value:.2e}")
rows = [[json.loads(l) for l in open(f"{p}/logs/metrics.jsonl")] for p in sys.argv[1:]]
assert [r["itr"] for r in rows[0]] == [r["itr"] for r in rows[1]] == list(range(1, 17))
keys = ("G_loss_mean", "D_loss_real_mean", "D_loss_fake_mean")
assert all(r[k] == s[k] for r, s in zip(rows[0][:15], rows[1][:15]) for k in keys), "the 2-rank halves differ"
loss = max(abs(rows[0][15][k] - rows[1][15][k]) for k in keys)
print(f"iteration 16 loss difference: {loss:.2e}")
bad = {k: v for k, v in results.items() if v > 1e-2}
assert not bad, f"the 2->1 resume differs beyond float tolerance: {bad}"
assert loss < 1e-5, loss
PY
echo "2-rank run resumed on 1 rank with 2 accumulations matches the uninterrupted run"
