#!/usr/bin/env bash
# A full disk: the run folder on a 5 MiB tmpfs fills up. Training must stop with a clear error
# and a non-zero exit, and the checkpoint `latest` names must still be valid.
# Needs root for the mount; skipped (exit 77) without it.
#   full_disk_test.sh BIGGAN SOURCE_DIR
set -uo pipefail
BIN=$1 SRC=$2
WORK=$(mktemp -d /tmp/biggan_full.XXXXXX)
mkdir -p "$WORK/disk"
if ! mount -t tmpfs -o size=5M tmpfs "$WORK/disk" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (needs root)"; rm -rf "$WORK"; exit 77
fi
trap 'umount "$WORK/disk"; rm -rf "$WORK"' EXIT
"$BIN" prepare-data --source fmnist --split test --output "$WORK/data/FMNIST32.hdf5" --progress none >/dev/null
"$BIN" train --config "$SRC/tests/configs/tiny_fmnist.yaml" --set "data.data_root=$WORK/data" \
  --set paths.experiment_name=full --set "paths.runs_root=$WORK/disk" --set ckpt.save_every=2 \
  --set ckpt.num_save_copies=1 --set train.total_iterations=400 >"$WORK/train.log" 2>&1
code=$?
if [[ $code == 0 ]]; then echo "training on a full disk succeeded?"; exit 1; fi
grep -Eiq "disk full|no space|could not be written|cannot write|write failed" "$WORK/train.log" ||
  { echo "no clear error:"; tail -5 "$WORK/train.log"; exit 1; }
# At least one save must have completed before the disk filled, or there is nothing to check.
latest=$(cat "$WORK/disk/full/checkpoints/latest" 2>/dev/null || true)
[[ $latest =~ ^itr[0-9]{8}$ ]] || { echo "no checkpoint was written before the disk filled"; ls -la "$WORK/disk/full/checkpoints"; exit 1; }
"$BIN" ckpt verify "$WORK/disk/full/checkpoints/$latest" || { echo "latest checkpoint $latest is damaged"; exit 1; }
echo "full disk: clear error ($(grep -Eio -m1 'no space left on device|could not be written|disk full' "$WORK/train.log")), $latest intact"
