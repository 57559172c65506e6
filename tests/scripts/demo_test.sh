#!/usr/bin/env bash
# scripts/demo.sh after training ends, with stand-ins for the build, mpirun and biggan (the real
# demo is the README's first command and takes minutes): a config changed under the existing
# run folder gets the --fresh hint; any other failure keeps its exit code without it, even with
# an old config.new.yaml from an earlier attempt lying there; a clean stop exits 3; a finished
# run is scored and drawn from its best checkpoint, on samples of a seed training did not score.
#   demo_test.sh SOURCE_DIR
set -uo pipefail
src=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/scripts" "$work/build" "$work/data" "$work/bin"
cp "$src/scripts/demo.sh" "$work/scripts/"
printf '#!/usr/bin/env bash\nexit 0\n' >"$work/scripts/build.sh"
touch "$work/data/FMNIST32.hdf5" "$work/data/FMNIST32_test.hdf5" "$work/data/FMNIST32_classifier.h5"
cat >"$work/bin/mpirun" <<'SH'
#!/usr/bin/env bash
# Drops mpirun's own options and runs the command once.
while [[ $1 == -* ]]; do case $1 in -np|-x) shift 2 ;; *) shift ;; esac; done
exec "$@"
SH
cat >"$work/build/biggan" <<'SH'
#!/usr/bin/env bash
echo "$*" >>calls.log
if [[ $1 == eval ]]; then  # the summary names the sheets `biggan sample` drew
  while [[ $# -gt 0 && $1 != --summary ]]; do shift; done
  [[ $# -gt 1 ]] && printf '{\n  "itr": 1200,\n  "sample_sheets": [\n    "%s",\n    "%s"\n  ]\n}\n' \
    runs/fmnist_demo/samples/sample_itr1200/-1/interpZ0.png runs/fmnist_demo/samples/sample_itr1200/-1/samples0.png >"$2"
  exit 0
fi
[[ $1 == train ]] || exit 0
case $FAKE_TRAIN in
  finished) mkdir -p runs/fmnist_demo/samples/1000 runs/fmnist_demo/samples/1250 runs/fmnist_demo/samples/sample_itr1200 ;;
  config_changed)
    mkdir -p runs/fmnist_demo && echo "train: {}" >runs/fmnist_demo/config.new.yaml
    echo "biggan: error on rank 0: run folder runs/fmnist_demo already holds a run with a different config" >&2
    exit 1 ;;
  other_failure) echo "biggan: error on rank 0: something else" >&2; exit 1 ;;
  stopped) exit 3 ;;
esac
SH
chmod +x "$work/scripts/build.sh" "$work/bin/mpirun" "$work/build/biggan"
hint="'bash scripts/demo.sh --fresh' deletes that run and starts over"
demo() {  # FAKE_TRAIN -> sets out and code
  out=$(FAKE_TRAIN=$1 PATH="$work/bin:$PATH" bash "$work/scripts/demo.sh" 2>&1)
  code=$?
}

demo config_changed
[[ $code == 1 ]] || fail "a changed config: exit $code, expected 1: $out"
grep -qF "demo: training failed (exit 1)" <<<"$out" || fail "a changed config: no failure line: $out"
grep -qF "$hint" <<<"$out" || fail "a changed config: no --fresh hint: $out"
[[ -f $work/runs/fmnist_demo/config.new.yaml ]] || fail "the stand-in did not write config.new.yaml"

touch -d '1 hour ago' "$work/runs/fmnist_demo/config.new.yaml"
demo other_failure
[[ $code == 1 ]] || fail "another failure: exit $code, expected 1: $out"
grep -qF "something else" <<<"$out" || fail "another failure: biggan's message is missing: $out"
grep -qF "$hint" <<<"$out" && fail "another failure with an old config.new.yaml got the --fresh hint: $out"

demo stopped
[[ $code == 3 ]] || fail "a clean stop: exit $code, expected 3: $out"
grep -qF "stopped cleanly with a checkpoint" <<<"$out" || fail "a clean stop: $out"
grep -qF "$hint" <<<"$out" && fail "a clean stop got the --fresh hint: $out"
rm -f "$work/calls.log"
demo finished
[[ $code == 0 ]] || fail "a finished run: exit $code: $out"
grep -qE '^sample --run runs/fmnist_demo --best .*sample.sample_sheets=true' "$work/calls.log" ||
  fail "a finished run: no sheets of the best checkpoint: $(cat "$work/calls.log")"
grep -qE '^eval --run runs/fmnist_demo --best --seed 1 --samples 10000 --summary runs/fmnist_demo/summary.json$' \
  "$work/calls.log" || fail "a finished run: not scored as the best on new samples: $(cat "$work/calls.log")"
grep -qF "class sheet:    runs/fmnist_demo/samples/sample_itr1200/-1/samples0.png" <<<"$out" ||
  fail "a finished run: the class sheet printed is not the best's: $out"
grep -qF "last iteration: runs/fmnist_demo/samples/1250/samples0.png" <<<"$out" ||
  fail "a finished run: the final sheets are not named: $out"
echo "demo.sh: a changed config gets the --fresh hint; other failures and clean stops do not; a finished run is scored from its best checkpoint"
