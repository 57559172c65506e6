#!/usr/bin/env bash
# `biggan ckpt` from the outside, on BigGAN-PyTorch's own weights folders (zip and legacy):
# import into a new run, inspect, export, and the exported .pth files hold the same tensors as
# the originals (read by Python's torch); our own export imports again; an import into a run
# that has checkpoints is refused and changes nothing, one into a folder that holds only another
# config takes it over; verify of a folder with none fails.
#   ckpt_cli_test.sh BIGGAN SOURCE_DIR
set -euo pipefail
BIN=$1 SRC=$2
FIXTURES="$SRC/../shared/fixtures/bp_weights"
[[ -d $FIXTURES ]] || { echo "SKIP: $FIXTURES not found (present in CI; a plain clone has no ../shared)"; exit 77; }
WORK=$(mktemp -d /tmp/biggan_ckpt_cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$WORK/empty"
set +e
"$BIN" ckpt verify "$WORK/empty" >"$WORK/verify.out" 2>"$WORK/verify.err"
code=$?
set -e
[[ $code == 1 ]] || fail "verify of a folder without checkpoints exited $code"
grep -q "$WORK/empty: no checkpoints" "$WORK/verify.err" || fail "verify did not say 'no checkpoints'"

for format in zip legacy; do
  runs="$WORK/$format/runs"
  "$BIN" ckpt import "$FIXTURES/$format" --set "paths.runs_root=$runs" --set paths.experiment_name=imported \
    >"$WORK/import.log" 2>&1 || { cat "$WORK/import.log"; fail "$format: import failed"; }
  grep -q "imported $FIXTURES/$format as iteration 1 of run $runs/imported" "$WORK/import.log" ||
    { cat "$WORK/import.log"; fail "$format: import message"; }
  ckpt="$runs/imported/checkpoints/itr00000001"
  "$BIN" ckpt verify "$ckpt" >/dev/null || fail "$format: the imported checkpoint does not verify"
  "$BIN" ckpt inspect "$runs/imported" >"$WORK/inspect.out" || fail "$format: inspect failed"
  grep -q '"itr": 1' "$WORK/inspect.out" || fail "$format: inspect shows no itr 1"
  crc_before=$(cat "$ckpt/manifest.json")

  # A second import into the same run: refused, the checkpoint untouched.
  set +e
  "$BIN" ckpt import "$FIXTURES/$format" --set "paths.runs_root=$runs" --set paths.experiment_name=imported \
    >"$WORK/again.log" 2>&1
  code=$?
  set -e
  [[ $code == 1 ]] || fail "$format: import into a run with checkpoints exited $code"
  grep -q "run folder $runs/imported already has checkpoints (newest itr00000001)" "$WORK/again.log" ||
    { cat "$WORK/again.log"; fail "$format: refusal message"; }
  [[ $(cat "$ckpt/manifest.json") == "$crc_before" ]] || fail "$format: the refused import changed the checkpoint"
  "$BIN" ckpt verify "$ckpt" >/dev/null || fail "$format: the refused import damaged the checkpoint"

  # A folder that another config was prepared in (a dry run) and that holds nothing else is taken
  # over by the import; its config is kept.
  "$BIN" train --dry-run --set "paths.runs_root=$runs" --set paths.experiment_name=taken --set data.dataset=C10 \
    >/dev/null 2>&1 || fail "$format: the dry run failed"
  cp "$runs/taken/config.yaml" "$WORK/taken_config.yaml"
  "$BIN" ckpt import "$FIXTURES/$format" --set "paths.runs_root=$runs" --set paths.experiment_name=taken \
    >"$WORK/taken.log" 2>&1 || { cat "$WORK/taken.log"; fail "$format: import into a folder without results failed"; }
  grep -q "run folder $runs/taken held nothing of the config it recorded (changed: .*); that config is kept as $runs/taken/config.superseded.yaml" \
    "$WORK/taken.log" || { cat "$WORK/taken.log"; fail "$format: the takeover was not reported"; }
  cmp -s "$runs/taken/config.superseded.yaml" "$WORK/taken_config.yaml" || fail "$format: the old config was not kept"
  "$BIN" ckpt verify "$runs/taken/checkpoints/itr00000001" >/dev/null || fail "$format: the import after a takeover"

  "$BIN" ckpt export "$runs/imported" "$WORK/$format/out" >/dev/null || fail "$format: export failed"
  /usr/bin/python3 - "$FIXTURES/$format" "$WORK/$format/out" <<'PY' || fail "$format: the export differs from the original"
import sys, torch
original, exported = sys.argv[1:]
for name in ("G.pth", "D.pth", "G_ema.pth"):
    a, b = torch.load(f"{original}/{name}"), torch.load(f"{exported}/{name}")
    assert list(a.keys()) == list(b.keys()), (name, set(a) ^ set(b))
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), (name, k)
for name in ("G_optim.pth", "D_optim.pth"):
    a, b = torch.load(f"{original}/{name}"), torch.load(f"{exported}/{name}")
    assert a["state"].keys() == b["state"].keys(), name
    for i in a["state"]:
        for k in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(a["state"][i][k], b["state"][i][k]), (name, i, k)
    for k in ("lr", "betas", "eps"):
        assert a["param_groups"][0][k] == b["param_groups"][0][k], (name, k)
s = torch.load(f"{exported}/state_dict.pth")
assert s["itr"] == 1, s["itr"]
print("exported tensors equal the originals")
PY
  # Our own export is a weights folder like any other.
  "$BIN" ckpt import "$WORK/$format/out" --set "paths.runs_root=$WORK/$format/again" --set paths.experiment_name=round \
    >"$WORK/reimport.log" 2>&1 || { cat "$WORK/reimport.log"; fail "$format: import of our own export failed"; }
  for f in G.h5 D.h5 G_ema.h5 G_optim.h5 D_optim.h5; do
    h5diff -q "$ckpt/$f" "$WORK/$format/again/round/checkpoints/itr00000001/$f" || fail "$format: round trip changed $f"
  done
done
echo "ckpt import/inspect/export round trips both BigGAN-PyTorch formats"
