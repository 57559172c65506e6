#!/usr/bin/env bash
# Bad inputs get a clear error: the exit status and the message, naming the file, key or value,
# and nothing already written is lost.
#   bad_inputs_test.sh BIGGAN SOURCE_DIR
set -euo pipefail
BIN=$1 SRC=$2
WORK=$(mktemp -d /tmp/biggan_bad_inputs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
expect() { bash "$SRC/tests/cli/expect_error.sh" "$@" || exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

"$BIN" prepare-data --source fmnist --split test --output data/FMNIST32.hdf5 --progress none >/dev/null
train=(train --config "$SRC/tests/configs/tiny_fmnist.yaml" --set data.data_root=data --set paths.runs_root=runs)

# Datasets: truncated, not HDF5, too small for one iteration.
mkdir -p cut
head -c 300000 data/FMNIST32.hdf5 >cut/FMNIST32.hdf5
expect 1 "cut/FMNIST32.hdf5: cannot open the dataset file: truncated: 300000 bytes, its superblock says [0-9]+" \
  "$BIN" "${train[@]}" --set data.data_root=cut --set paths.experiment_name=cut
mkdir -p junk && echo "not a dataset" >junk/FMNIST32.hdf5
expect 1 "junk/FMNIST32.hdf5: cannot open the dataset file: not an HDF5 file" \
  "$BIN" "${train[@]}" --set data.data_root=junk --set paths.experiment_name=junk
# Damage HDF5 itself does not survive: one byte, found by fuzzing, marks a dataset's fill-value
# message as shared, and HDF5 1.10 segfaults inside H5Dopen. The crash must name the file (and a
# later HDF5 that refuses it cleanly must too).
"$BIN" prepare-data --source fmnist --split test --classes 0,1 --per-class 5 --compression gzip \
  --output shared/FMNIST32.hdf5 --progress none >/dev/null
/usr/bin/python3 - shared/FMNIST32.hdf5 <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
at = data.find(b"\x05\x00\x08\x00\x01\x00\x00\x00")  # fill value message: type 5, 8 bytes, flags 1
assert at > 0, "no fill value message found"
data[at + 4] = 0xB3
open(path, "wb").write(bytes(data))
PY
status=0
out=$("$BIN" "${train[@]}" --set data.data_root=shared --set paths.experiment_name=shared 2>&1) || status=$?
case $status in
  139|135) grep -q "biggan: crashed while reading shared/FMNIST32.hdf5: the file is probably damaged" <<<"$out" ||
             { echo "HDF5 crashed (exit $status) without naming the file: $out"; exit 1; } ;;
  1) grep -q "shared/FMNIST32.hdf5" <<<"$out" || { echo "the error does not name the file: $out"; exit 1; } ;;
  *) echo "a damaged dataset: exit $status: $out"; exit 1 ;;
esac
echo "damaged HDF5 metadata: exit $status, naming the file"
expect 1 "data/FMNIST32.hdf5: 10000 images, fewer than the 12000 real images one iteration takes \(12000 per rank" \
  "$BIN" "${train[@]}" --set paths.experiment_name=big --set train.batch_size=6000

# Out of memory: a micro-batch too large for the 3 GB of address space the run may take fails in
# LibTorch's allocator; the message is its first line (no backtrace) and what to change.
status=0
out=$( (ulimit -v 3000000; "$BIN" "${train[@]}" --set paths.experiment_name=oom --set train.batch_size=4096 \
        --set model.G_ch=32 --set model.D_ch=32) 2>&1) || status=$?
[[ $status == 1 ]] || { echo "$out"; echo "FAIL: an out-of-memory run exited $status, expected 1"; exit 1; }
grep -q "DefaultCPUAllocator: can't allocate memory" <<<"$out" &&
  grep -q "^Out of memory. Training: a smaller train.batch_size needs less" <<<"$out" &&
  ! grep -q "frame #" <<<"$out" || { echo "$out"; echo "FAIL: the out-of-memory message"; exit 1; }
echo "out of memory: the allocator's line and what to change, no backtrace"

# A width typo (96000 for 96): its networks alone need far more memory than the machine has. Built,
# their init would fill memory for minutes until the OOM killer struck without a word; they are
# refused in seconds at the key, with the counts and the machine's figure, before anything is
# written, on one rank and on two (each rank's need counts twice on one node).
for ranks in 1 2; do
  launch=("$BIN") on_node=""
  ((ranks == 1)) || { launch=(mpirun -np 2 "$BIN"); on_node=" for the 2 ranks on this node"; }
  regex="model.G_ch: 96000 makes G and D too large for this machine: .* need [0-9.]+ TiB$on_node before any"
  regex+=" activation \(G: [0-9.e+]+ parameters, D: 67169\), but [0-9.]+ ([KMGTPE]i)?B is"
  regex+=" available \((MemAvailable \+ SwapFree in /proc/meminfo|the memory cgroup's limit less its usage, /sys/)"
  expect 1 "$regex" timeout -s KILL 120 "${launch[@]}" "${train[@]}" --set paths.experiment_name=wide --set model.G_ch=96000
  left=$(cd runs/wide 2>/dev/null && ls -A)  # the run lock, taken first, is all there may be
  [[ -z $left || $left == run.lock ]] || { echo "FAIL: a refused start on $ranks rank(s) wrote: $left"; exit 1; }
done

# Compression: an LZF file without the LZF plugin is refused before training, naming the fix;
# so is writing one; an unknown --compression names the choices.
"$BIN" prepare-data --source fmnist --split test --output lzf/FMNIST32.hdf5 --compression lzf --progress none >/dev/null
mkdir -p no-plugins
HDF5_PLUGIN_PATH=$WORK/no-plugins expect 1 \
  "lzf/FMNIST32.hdf5:imgs is compressed with filter 32000 \(lzf\) that this HDF5 cannot load: install Debian's hdf5-plugin-lzf" \
  "$BIN" "${train[@]}" --set data.data_root=lzf --set paths.experiment_name=lzf
HDF5_PLUGIN_PATH=$WORK/no-plugins expect 1 \
  "prepare-data --compression lzf: the HDF5 LZF filter plugin is not installed \(Debian package hdf5-plugin-lzf" \
  "$BIN" prepare-data --source fmnist --split test --output lzf2.hdf5 --compression lzf --progress none
expect 1 "prepare-data --compression: unknown value 'zstd' \(none \| gzip \| lzf\)" \
  "$BIN" prepare-data --source fmnist --split test --output z.hdf5 --compression zstd --progress none
[[ ! -e lzf2.hdf5 && ! -e lzf2.hdf5.partial ]] || { ls -la; echo "a refused preparation left files"; exit 1; }

# A changed model setting on resume names the key; the run's config.yaml stays.
"$BIN" "${train[@]}" --set paths.experiment_name=run --set train.total_iterations=2 >/dev/null 2>&1
before=$(cat runs/run/config.yaml)
expect 1 "already holds a run with a different config .*changed: model.G_ch: 8 -> 16" \
  "$BIN" "${train[@]}" --set paths.experiment_name=run --set train.total_iterations=4 --set model.G_ch=16
[[ $(cat runs/run/config.yaml) == "$before" ]] || { echo "config.yaml was changed"; exit 1; }
# A dataset that does not fit the config is named before anything is written: no config.yaml.
custom=(--set paths.experiment_name=custom --set data.dataset=custom --set data.path=data/FMNIST32.hdf5
        --set data.n_classes=10 --set train.total_iterations=1)
expect 1 "data/FMNIST32.hdf5: images are 32 px but the config trains at 64 px" \
  "$BIN" "${train[@]}" "${custom[@]}" --set data.resolution=64
[[ ! -e runs/custom/config.yaml ]] || { ls -A runs/custom; echo "a refused dataset left a config.yaml"; exit 1; }
expect 1 "data/FMNIST32_classifier.h5: classifier not found" \
  "$BIN" "${train[@]}" "${custom[@]}" --set data.resolution=32 --set ckpt.which_best=classifier --set eval.test_every=1
[[ ! -e runs/custom/config.yaml ]] || { ls -A runs/custom; echo "a missing classifier left a config.yaml"; exit 1; }
expect 1 "/nonexistent.pth: no such Inception weights file" \
  "$BIN" "${train[@]}" "${custom[@]}" --set data.resolution=32 --set eval.test_every=1 --set eval.inception_weights=/nonexistent.pth
[[ ! -e runs/custom/config.yaml ]] || { ls -A runs/custom; echo "missing Inception weights left a config.yaml"; exit 1; }
# The run that ran out of memory above left its folder with config.yaml and start-up logs only:
# the smaller batch its message advised takes the folder over, keeping the old config. A dry
# run does not take the run's lock, so it does not take a folder over.
expect 1 "already holds a run with a different config .*changed: train.batch_size: 4096 -> 8" \
  "$BIN" "${train[@]}" --set paths.experiment_name=oom --set model.G_ch=32 --set model.D_ch=32 --set train.batch_size=8 --dry-run
"$BIN" "${train[@]}" --set paths.experiment_name=oom --set model.G_ch=32 --set model.D_ch=32 --set train.batch_size=8 \
  --set train.total_iterations=1 >takeover.log 2>&1 || { cat takeover.log; echo "the smaller batch was refused"; exit 1; }
grep -q "held no checkpoint, sample or logged iteration of the config it recorded (changed: train.batch_size: 4096 -> 8); that config is kept as runs/oom/config.superseded.yaml" takeover.log ||
  { cat takeover.log; echo "the takeover was not reported"; exit 1; }
grep -q "batch_size: 4096" runs/oom/config.superseded.yaml && grep -q "batch_size: 8" runs/oom/config.yaml &&
  [[ -d runs/oom/checkpoints/itr00000001 ]] || { ls -R runs/oom; echo "the takeover's files"; exit 1; }
# Now the folder holds a checkpoint: the change back is refused.
expect 1 "already holds a run with a different config .*changed: train.batch_size: 8 -> 4096" \
  "$BIN" "${train[@]}" --set paths.experiment_name=oom --set model.G_ch=32 --set model.D_ch=32 --set train.batch_size=4096
expect 1 "--resume-from runs/run/checkpoints/itr00000099: no such checkpoint folder" \
  "$BIN" "${train[@]}" --set paths.experiment_name=run --resume-from runs/run/checkpoints/itr00000099
# With config.yaml gone, the checkpoint's own config restores it, and the same refusal follows.
rm runs/run/config.yaml
expect 1 "config.yaml was missing; restored from .*itr00000002/state.json" \
  "$BIN" "${train[@]}" --set paths.experiment_name=run --set train.total_iterations=4 --set optim.D_lr=1e-4
expect 1 "already holds a run with a different config .*changed: optim.D_lr: 0.0002 -> 0.0001" \
  "$BIN" "${train[@]}" --set paths.experiment_name=run --set train.total_iterations=4 --set optim.D_lr=1e-4
[[ $(cat runs/run/config.yaml) == "$before" ]] || { echo "config.yaml was not restored as it was"; diff <(echo "$before") runs/run/config.yaml; exit 1; }
# `ckpt list`: newest first, validity, size and roles. A damaged index.json is named (exit 1) with
# every checkpoint still listed; the next `train` keeps it aside and resumes.
"$BIN" ckpt list runs/run >list.out || { cat list.out; echo "ckpt list failed"; exit 1; }
grep -Eq "^runs/run/checkpoints/itr00000002  valid  [0-9]+ KiB  latest,copy0$" list.out || { cat list.out; echo "ckpt list's line"; exit 1; }
printf '{"checkpoints": [' >runs/run/checkpoints/index.json
expect 1 "runs/run/checkpoints/index.json: not valid JSON" "$BIN" ckpt list runs/run
"$BIN" ckpt list runs/run >list.out 2>/dev/null || true
grep -q "itr00000002  valid  .*(index unreadable)" list.out || { cat list.out; echo "list lost a checkpoint"; exit 1; }
"$BIN" "${train[@]}" --set paths.experiment_name=run --set train.total_iterations=3 >index.log 2>&1 ||
  { cat index.log; echo "train did not resume past a damaged index"; exit 1; }
grep -q "index.json: not valid JSON .*kept as runs/run/checkpoints/index.json.damaged-" index.log || { cat index.log; echo "no set-aside warning"; exit 1; }
"$BIN" ckpt list runs/run >list3.out 2>&1 || true
grep -q "itr00000003  valid  .*latest" list3.out || { cat list3.out; echo "no itr3"; exit 1; }
# Another run's checkpoint may be resumed with other settings (a branch), but they are listed.
"$BIN" "${train[@]}" --set paths.experiment_name=branch --set train.total_iterations=4 --set optim.G_lr=1e-4 \
  --resume-from runs/run/checkpoints/itr00000003 >branch.log 2>&1 || { cat branch.log; echo "the branch failed"; exit 1; }
grep -q "optim.G_lr: 0.0002 -> 0.0001" < <(grep -A1 "another run's checkpoint, with settings other than it was trained with" branch.log) ||
  { cat branch.log; echo "the branch's changed setting was not listed"; exit 1; }

# Resuming on a number of ranks that cannot keep the global batch says what would.
expect 1 "resuming runs/run/checkpoints/itr00000003 \(written by 1 rank\(s\), global batch 8\) on 3 ranks: .*run it on 1 rank\(s\)" \
  mpirun -np 3 "$BIN" "${train[@]}" --set paths.experiment_name=run --set train.total_iterations=4

# generate: latents that cannot give images, inputs that are not there, a model not named.
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
with h5py.File("nan.h5", "w") as f:
    z = np.random.randn(5, 32).astype("f4"); z[3, 7] = np.nan
    f["z"] = z; f["y"] = np.zeros(5, "i8")
with h5py.File("zero.h5", "w") as f:
    f["z"] = np.zeros((0, 32), "f4"); f["y"] = np.zeros(0, "i8")
with h5py.File("fraction.h5", "w") as f:
    f["z"] = np.random.randn(3, 32).astype("f4"); f["y"] = np.array([1.0, 2.5, 3.0], "f4")
with h5py.File("class_10.h5", "w") as f:
    f["z"] = np.random.randn(3, 32).astype("f4"); f["y"] = np.array([1, 4, 10], "i8")
with h5py.File("float_labels.h5", "w") as f:
    f["z"] = np.random.randn(3, 32).astype("f4"); f["y"] = np.array([1.0, 2.0, 3.0], "f4")
PY
weights=runs/run/checkpoints/itr00000002/G.h5
gen=(generate --config runs/run/config.yaml --weights "$weights" --output out.h5)
expect 1 "nan.h5:z holds NaN or infinite values in 1 of 5 rows \(the first is row 3\)" "$BIN" "${gen[@]}" --input nan.h5
expect 1 "zero.h5:z holds no latents \(0 rows\)" "$BIN" "${gen[@]}" --input zero.h5
expect 1 "fraction.h5:y holds labels that are not whole numbers \(the first at row 1: 2.5" "$BIN" "${gen[@]}" --input fraction.h5
expect 1 "class_10.h5:y holds labels outside \[0, 10\) \(the first at row 2: 10\)" "$BIN" "${gen[@]}" --input class_10.h5
[[ ! -e out.h5 ]] || { echo "a failed generate left out.h5"; exit 1; }
"$BIN" "${gen[@]}" --input float_labels.h5 >/dev/null || { echo "whole-number float labels were refused"; exit 1; }
rm -f out.h5
expect 1 "missing.h5: cannot open HDF5 file: no such file" "$BIN" "${gen[@]}" --input missing.h5
expect 1 "junk/FMNIST32.hdf5: cannot open HDF5 file: not an HDF5 file" "$BIN" "${gen[@]}" --input junk/FMNIST32.hdf5
expect 2 "generate: give --config FILE .* or --biggan-pytorch-state FILE" \
  "$BIN" generate --weights "$weights" --input nan.h5 --output out.h5
[[ ! -e out.h5 ]] || { echo "a failed generate left out.h5"; exit 1; }
# An output that is one of the command's inputs (by another spelling or a link) is refused
# before anything is computed, and the input stays as it was.
cp float_labels.h5 latents.h5 && ln -s latents.h5 latents_link.h5
sum_before=$(md5sum latents.h5 data/FMNIST32.hdf5)
expect 2 "--output latents_link.h5 is the same file as --input ./latents.h5: writing there would replace it" \
  "$BIN" generate --config runs/run/config.yaml --weights "$weights" --input ./latents.h5 --output latents_link.h5
expect 2 "--output $weights is the same file as --weights $weights" \
  "$BIN" generate --config runs/run/config.yaml --weights "$weights" --input latents.h5 --output "$weights"
expect 2 "--output data/../data/FMNIST32.hdf5 is the same file as the dataset data/FMNIST32.hdf5" \
  "$BIN" inception-moments --config "$SRC/tests/configs/tiny_fmnist.yaml" --set data.data_root=data \
  --output data/../data/FMNIST32.hdf5
expect 2 "--output data/FMNIST32.hdf5 is the same file as --train data/FMNIST32.hdf5" \
  "$BIN" classifier train --train data/FMNIST32.hdf5 --test data/FMNIST32.hdf5 --output data/FMNIST32.hdf5
[[ $(md5sum latents.h5 data/FMNIST32.hdf5) == "$sum_before" ]] || { echo "a refused output changed its input"; exit 1; }
# classifier train: a rate Adam cannot use (0 or a subnormal trained nothing, inf ruined the
# weights, 1e308 failed in LibTorch naming no option); a batch larger than the data in its terms.
for lr in 0 1e-320 inf nan -1 1e308; do
  expect 2 "classifier train --lr: expected a learning rate from 1.17549e-38 to 3.40282e\+38 \(float32's normal range\), got" \
    "$BIN" classifier train --train data/FMNIST32.hdf5 --test data/FMNIST32.hdf5 --output clf.h5 --lr "$lr"
done
expect 1 "data/FMNIST32.hdf5: 10000 images, fewer than the 12000 real images one iteration takes \(6000 per rank: classifier train --batch-size, x 2 ranks\)" \
  mpirun -np 2 "$BIN" classifier train --train data/FMNIST32.hdf5 --test data/FMNIST32.hdf5 --output clf.h5 --batch-size 6000
[[ ! -e clf.h5 ]] || { echo "FAIL: a refused classifier run left clf.h5"; exit 1; }

# Logs: a loss that is text is an error with file and line, like a malformed line.
cp -r runs/run runs/textloss
sed -i '2s/"G_loss":[^,]*/"G_loss":"abc"/' runs/textloss/logs/metrics.jsonl
expect 1 "runs/textloss/logs/metrics.jsonl:2: \"G_loss\" is not a number: \"abc\"" "$BIN" logs summary runs/textloss
# prepare-data: a PNG with one flipped bit is reported and skipped; an output that is a folder
# fails before converting; SIGINT removes the partial file and says so.
mkdir -p folder/a folder/b
/usr/bin/python3 - <<'PY'
from PIL import Image
import numpy as np
rng = np.random.default_rng(0)
for i, d in enumerate(["a", "a", "b"]):
    Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(f"folder/{d}/{i}.png")
data = bytearray(open("folder/a/1.png", "rb").read())
at = data.index(b"IDAT") + 20
data[at] ^= 0x04
open("folder/a/1.png", "wb").write(bytes(data))
PY
"$BIN" prepare-data --source imagefolder --input folder --resolution 32 --output folder.hdf5 --progress none >prep.log 2>&1 ||
  { cat prep.log; echo "prepare-data failed"; exit 1; }
grep -q "skipping 1 unreadable image(s).*" prep.log && grep -q "folder/a/1.png: damaged PNG (IDAT: " prep.log ||
  { cat prep.log; echo "the damaged PNG was not reported"; exit 1; }
/usr/bin/python3 -c "import h5py,sys; n=len(h5py.File('folder.hdf5')['imgs']); sys.exit(0 if n == 2 else f'{n} images, expected 2')"
# The settings it prints for the images of one's own train on them (a micro-batch of 1: 2 images).
grep -qx "train on it with: --set data.dataset=custom --set data.path=folder.hdf5 --set data.resolution=32 --set data.n_classes=2" prep.log ||
  { cat prep.log; echo "prepare-data did not say how to train on the file"; exit 1; }
read -ra printed <<<"$(sed -n 's/^train on it with: //p' prep.log)"
"$BIN" "${train[@]}" "${printed[@]}" --set paths.experiment_name=own --set train.batch_size=1 --set train.num_D_steps=1 \
  --set train.total_iterations=1 >own.log 2>&1 || { cat own.log; echo "the printed settings did not train"; exit 1; }
# Without resolution and class count they are read from the file: the same run, which resumes.
"$BIN" "${train[@]}" --set data.dataset=custom --set data.path=folder.hdf5 --set paths.experiment_name=own \
  --set train.batch_size=1 --set train.num_D_steps=1 --set train.total_iterations=2 >own2.log 2>&1 ||
  { cat own2.log; echo "a custom dataset without resolution and n_classes did not train"; exit 1; }
grep -q "resum" own2.log && grep -qx "  resolution: 32" runs/own/config.yaml && grep -qx "  n_classes: 2" runs/own/config.yaml ||
  { cat own2.log runs/own/config.yaml; echo "the file's resolution and classes were not the run's"; exit 1; }
# A file of BigGAN-PyTorch's make_hdf5 has no n_classes attribute: the largest label + 1.
/usr/bin/python3 -c "
import h5py, numpy as np
with h5py.File('plain.hdf5', 'w') as f:
    f['imgs'] = np.zeros((4, 3, 64, 64), np.uint8)
    f['labels'] = np.array([0, 4, 1, 4], np.int64)"
"$BIN" "${train[@]}" --set data.dataset=custom --set data.path=plain.hdf5 --print-config >plain.yaml
grep -qx "  resolution: 64" plain.yaml && grep -qx "  n_classes: 5" plain.yaml ||
  { cat plain.yaml; echo "plain.hdf5 is 64 px with 5 classes"; exit 1; }
expect 1 "data.resolution \(not set\): dataset 'custom' needs data.resolution; it is read from data.path's file when that exists \(nothere.hdf5 does not\)" \
  "$BIN" "${train[@]}" --set data.dataset=custom --set data.path=nothere.hdf5 --print-config
mkdir -p outdir
start=$SECONDS
expect 1 "prepare-data --output outdir: is a directory; give the dataset file's name" \
  "$BIN" prepare-data --source fmnist --split train --output outdir --progress none
(( SECONDS - start < 10 )) || { echo "the folder output was refused only after converting"; exit 1; }
# HDF5 refuses chunks of 4 GiB or more, naming no option; and a chunk longer than the dataset is
# the dataset (its write buffer was --chunk-size images: 100000000 filled memory until killed).
expect 1 "prepare-data: --chunk-size 500 makes HDF5 chunks of 5.86 GiB \(500 images of 3 x 2048 x 2048 bytes\); HDF5 allows less than 4 GiB a chunk: use at most 341$" \
  timeout -s KILL 60 "$BIN" prepare-data --source fmnist --split test --resolution 2048 --output huge.hdf5 --progress none
[[ ! -e huge.hdf5 && ! -e huge.hdf5.partial ]] || { echo "FAIL: a refused prepare-data left a file"; exit 1; }
out=$(timeout -s KILL 120 "$BIN" prepare-data --source fmnist --split test --chunk-size 100000000 --output long.hdf5 \
      --progress none 2>&1) || { echo "$out"; echo "FAIL: --chunk-size 100000000 on 10000 images"; exit 1; }
grep -q "wrote 10000 images to long.hdf5" <<<"$out" || { echo "$out"; echo "FAIL: --chunk-size 100000000"; exit 1; }
cmp <("$BIN" "${train[@]}" --set data.data_root=. --set data.dataset=custom --set data.path=long.hdf5 \
      --print-config | grep -E "^  (resolution|n_classes):") <(printf '  resolution: 32\n  n_classes: 10\n') ||
  { echo "FAIL: the long-chunked file does not read back as 32 px, 10 classes"; exit 1; }
echo "chunks: 4 GiB refused by name, a chunk longer than the dataset is the dataset"
"$BIN" prepare-data --source fmnist --split all --resolution 64 --output big.hdf5 --progress none >sigint.log 2>&1 &
pid=$!
for _ in $(seq 200); do [[ -e big.hdf5.partial ]] && break; sleep 0.05; done
sleep 0.5
kill -INT "$pid"
set +e; wait "$pid"; code=$?; set -e
[[ $code == 1 ]] || { cat sigint.log; echo "SIGINT: exit $code, expected 1"; exit 1; }
grep -q "prepare-data: interrupted by signal 2; removed big.hdf5.partial, nothing was written to big.hdf5" sigint.log ||
  { cat sigint.log; echo "SIGINT: no message"; exit 1; }
[[ ! -e big.hdf5.partial && ! -e big.hdf5 ]] || { ls -la; echo "SIGINT left files behind"; exit 1; }
echo "bad inputs: every one a clear error"

# One allocation larger than the machine's RAM and swap (a typo in a batch size): with overcommit
# and jemalloc's reserved mappings it was handed out, and `sample` filled memory until killed.
# The allocator's guard refuses it at once, on one rank and on two; a sane batch still samples.
for launch in "$BIN" "mpirun -np 2 $BIN"; do
  expect 1 "one tensor of [0-9.]+ [KMGTPE]iB is more than this machine can ever hold \([0-9.]+ [KMGTPE]iB: (MemTotal \+ SwapTotal in /proc/meminfo|the memory cgroup's limit, /sys/)" \
    timeout -s KILL 120 $launch sample --run runs/run --output huge_sample --set sample.sample_random=true \
    --set train.G_batch_size=1000000000
done
grep -q "^Out of memory. Training: a smaller train.batch_size" < <("$BIN" sample --run runs/run --output huge_sample \
  --set sample.sample_random=true --set train.G_batch_size=1000000000 2>&1) || { echo "FAIL: no advice"; exit 1; }
"$BIN" sample --run runs/run --output sane_sample --set sample.sample_random=true >sane.log 2>&1 &&
  [[ -f sane_sample/random_samples.png ]] || { cat sane.log; echo "FAIL: a sane sample behind the guard"; exit 1; }
echo "one allocation beyond the machine: refused at once by the allocator's guard"
