#!/usr/bin/env bash
# Fine-tuning end to end: prepare-data --classes/--per-class makes the two datasets (Fashion-MNIST
# classes 0-6 and 7-9), a source run trains on the first, `ckpt inspect` describes it, bad
# fine-tuning settings fail naming the setting, and a 2-rank fine-tune with class_map and FreezeD
# stopped halfway and resumed (with SOURCE moved away) equals an uninterrupted one bit for bit,
# with D's frozen blocks still SOURCE's, bit for bit.
#   finetune_cli_test.sh BIGGAN SOURCE_DIR
set -euo pipefail
BIN=$(realpath "$1") SRC=$(realpath "$2")
WORK=$(mktemp -d /tmp/biggan_finetune.XXXXXX)
trap 'pkill -f "$WORK" 2>/dev/null || true; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "FAIL: $*"; exit 1; }
expect_error() { bash "$SRC/tests/cli/expect_error.sh" "$@" >"$WORK/expect.log" || { cat "$WORK/expect.log"; fail "$1: ${2}"; }; }

# Datasets: classes 0-6 (40 each) and 7, 8, 9 (30 each), relabelled, the source labels kept.
"$BIN" prepare-data --source fmnist --split test --classes 0,1,2,3,4,5,6 --per-class 40 --output "$WORK/data/src.hdf5" --progress none >/dev/null
"$BIN" prepare-data --source fmnist --split test --classes 7,8,9 --per-class 30 --output "$WORK/data/tgt.hdf5" --progress none >/dev/null
/usr/bin/python3 - "$WORK/data" <<'PY'
import h5py, numpy as np, sys, collections
d = sys.argv[1]
with h5py.File(f"{d}/tgt.hdf5") as f:
    labels, original = np.asarray(f["labels"]), np.asarray(f["original_labels"])
    assert f.attrs["n_classes"] == 3 and len(labels) == 90, (f.attrs["n_classes"], len(labels))
    assert sorted(collections.Counter(labels.tolist()).items()) == [(0, 30), (1, 30), (2, 30)], collections.Counter(labels.tolist())
    assert (original == labels + 7).all(), "original labels are not 7, 8, 9"
with h5py.File(f"{d}/src.hdf5") as f:
    assert sorted(set(np.asarray(f["labels"]).tolist())) == list(range(7)) and len(f["labels"]) == 280
print("datasets: 7 x 40 and 3 x 30 images, relabelled, original labels kept")
PY
expect_error 1 "prepare-data --classes: class 10 is out of range: .* has 10 classes" \
  "$BIN" prepare-data --source fmnist --split test --classes 7,10 --output "$WORK/data/bad.hdf5" --progress none
expect_error 2 "prepare-data --classes: class index 99999999999 is too large" \
  "$BIN" prepare-data --source fmnist --split test --classes 7,99999999999 --output "$WORK/data/bad.hdf5" --progress none
expect_error 1 "--per-class 5000: class .* has only 1000 items" \
  "$BIN" prepare-data --source fmnist --split test --classes 7 --per-class 5000 --output "$WORK/data/bad.hdf5" --progress none
[[ ! -e $WORK/data/bad.hdf5 ]] || fail "a refused prepare-data left a file"

base=(train --config "$SRC/tests/configs/tiny_fmnist.yaml" --set data.dataset=custom --set data.resolution=32
      --set ckpt.async_save=false --set train.total_iterations=6 --set ckpt.save_every=3)
"$BIN" "${base[@]}" --set "data.path=$WORK/data/src.hdf5" --set data.n_classes=7 --set "paths.runs_root=$WORK/runs" \
  --set paths.experiment_name=source >"$WORK/source.log" 2>&1 || { cat "$WORK/source.log"; fail "source run"; }
source_ckpt=$WORK/runs/source/checkpoints/itr00000006

out=$("$BIN" ckpt inspect "$WORK/runs/source")
grep -Eq "^classes +7$" <<<"$out" && grep -Eq "^G_ema +yes" <<<"$out" && grep -Eq "^D optimizer +yes" <<<"$out" ||
  { echo "$out"; fail "ckpt inspect of the source run"; }

target=("${base[@]}" --set "data.path=$WORK/data/tgt.hdf5" --set data.n_classes=3 --init-from "$WORK/runs/source")
expect_error 1 "has 7 classes and this run 3: set finetune.class_init to map .*, mean .* or random" \
  "$BIN" "${target[@]}" --set "paths.runs_root=$WORK/bad1"
expect_error 1 "^  model.G_ch: 8 in SOURCE, 16 here$" \
  "$BIN" "${target[@]}" --set "paths.runs_root=$WORK/bad2" --set finetune.class_init=mean --set model.G_ch=16
expect_error 1 "its architecture \\(.*state.json\\) differs from this run's:$" \
  "$BIN" "${target[@]}" --set "paths.runs_root=$WORK/bad2" --set finetune.class_init=mean --set model.G_ch=16
[[ -z $(find "$WORK/bad2" -name config.yaml 2>/dev/null) ]] || fail "a refused fine-tune wrote its run folder's config.yaml"
expect_error 1 "finetune.class_map entry 1: class 7 is out of range: SOURCE has 7 classes" \
  "$BIN" "${target[@]}" --set "paths.runs_root=$WORK/bad3" --set finetune.class_init=map --set "finetune.class_map=[1, 7, 2]"
expect_error 1 "finetune.class_map: has 2 entries, but this run has 3 classes" \
  "$BIN" "${target[@]}" --set "paths.runs_root=$WORK/bad4" --set finetune.class_init=map --set "finetune.class_map=[1, 2]"
expect_error 1 "finetune.freeze_D_blocks: 9 is more than D's 4 residual blocks" \
  "$BIN" "${target[@]}" --set "paths.runs_root=$WORK/bad5" --set finetune.class_init=mean --set finetune.freeze_D_blocks=9
expect_error 2 "--init-from and --resume-from exclude each other" \
  "$BIN" "${target[@]}" --resume-from "$source_ckpt"

tune=("${target[@]}" --set paths.experiment_name=tiny --set finetune.class_init=map --set "finetune.class_map=[[0, 1], 5, 6]" --set finetune.freeze_D_blocks=2)
mpirun -np 2 "$BIN" "${tune[@]}" --set "paths.runs_root=$WORK/straight" --set train.total_iterations=6 \
  >"$WORK/straight.log" 2>&1 || { cat "$WORK/straight.log"; fail "straight fine-tune"; }
grep -q "fine-tuning from .*source.* 7 -> 3 classes, class_init map, D's lowest 2 blocks frozen" "$WORK/straight.log" ||
  { cat "$WORK/straight.log"; fail "no fine-tuning message"; }
mpirun -np 2 "$BIN" "${tune[@]}" --set "paths.runs_root=$WORK/split" --set train.total_iterations=3 \
  >"$WORK/first.log" 2>&1 || { cat "$WORK/first.log"; fail "first half"; }
mv "$WORK/runs/source" "$WORK/runs/moved"  # a requeued job must not need SOURCE again
mpirun -np 2 "$BIN" "${tune[@]}" --set "paths.runs_root=$WORK/split" --set train.total_iterations=6 \
  >"$WORK/second.log" 2>&1 || { cat "$WORK/second.log"; fail "resumed fine-tune"; }
grep -q "resumes from its own checkpoint .*itr00000003; finetune.init_from .* is not read again" "$WORK/second.log" ||
  { cat "$WORK/second.log"; fail "the resume did not say SOURCE is not read again"; }

/usr/bin/python3 - "$WORK/straight/tiny/checkpoints/itr00000006" "$WORK/split/tiny/checkpoints/itr00000006" \
  "$WORK/runs/moved/checkpoints/itr00000006" <<'PY'
import h5py, numpy as np, sys
straight, split, source = sys.argv[1:]
for f in ("G.h5", "D.h5", "G_ema.h5", "G_optim.h5", "D_optim.h5"):
    with h5py.File(f"{straight}/{f}") as a, h5py.File(f"{split}/{f}") as b:
        assert set(a) == set(b), f
        for k in a:
            assert np.array_equal(np.asarray(a[k]), np.asarray(b[k])), f"{f}:{k} differs between the straight and resumed runs"
with h5py.File(f"{straight}/D.h5") as tuned, h5py.File(f"{source}/D.h5") as src:
    frozen = [k for k in tuned if k.startswith(("blocks.0.", "blocks.1."))]
    assert frozen, list(tuned)
    for k in frozen:
        assert np.array_equal(np.asarray(tuned[k]), np.asarray(src[k])), f"frozen D tensor {k} moved"
    moved = [k for k in tuned if k.startswith("blocks.2.") and k.endswith("weight")
             and not np.array_equal(np.asarray(tuned[k]), np.asarray(src[k]))]
    assert moved, "D's trainable blocks did not train"
    assert tuned["embed.weight"].shape[0] == 3
print(f"fine-tune: stopped and resumed equals straight bit for bit; {len(frozen)} frozen D tensors are SOURCE's")
PY
echo "finetune: datasets, inspect, 6 refusals, bit-exact 2-rank resume with FreezeD"
