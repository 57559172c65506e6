#!/usr/bin/env bash
# `biggan logs` on the logs of a real short run with one forced stop and resume, beside a
# hand-made BigGAN-PyTorch log: summary numbers, CSV, figures (real PNGs), the HTML report
# rendered by headless Chromium (skipped with a message when Chromium is absent), bad input.
#   logs_cli_test.sh BIGGAN SOURCE_DIR
set -euo pipefail
BIN=$(realpath "$1") SRC=$(realpath "$2")
WORK=$(mktemp -d /tmp/biggan_logs.XXXXXX)
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BIN" prepare-data --source fmnist --split test --output "$WORK/data/FMNIST32.hdf5" --progress none >/dev/null
train=(train --config "$SRC/tests/configs/tiny_fmnist.yaml" --set "data.data_root=$WORK/data"
       --set "paths.runs_root=$WORK/runs" --set paths.experiment_name=tiny)
run=$WORK/runs/tiny
"$BIN" "${train[@]}" >"$WORK/first.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  [[ -f $run/logs/metrics.jsonl ]] && (($(wc -l <"$run/logs/metrics.jsonl") >= 12)) && break
  sleep 0.1
done
kill -USR2 "$pid"
set +e; wait "$pid"; code=$?; set -e
[[ $code == 3 ]] || { cat "$WORK/first.log"; fail "the stopped run exited $code, expected 3"; }
sleep 1  # a visible gap between the stop and the resume
"$BIN" "${train[@]}" >"$WORK/second.log" 2>&1 || { cat "$WORK/second.log"; fail "resume failed"; }

# Summary: 30 iterations, one resume, finished, time lost > 1 s (the gap above).
summary=$("$BIN" logs summary "$run")
echo "$summary"
grep -Eq '^iterations +30 *$' <<<"$summary" || fail "iterations"
grep -Eq '^restarts \(resumes\) +1 *$' <<<"$summary" || fail "restarts"
grep -Eq '^status +finished *$' <<<"$summary" || fail "status"
grep -Eq '^diverged +no *$' <<<"$summary" || fail "diverged"
lost=$(sed -n 's/^lost to restarts *\([0-9.]*\)s *$/\1/p' <<<"$summary")
[[ -n $lost ]] && awk -v l="$lost" 'BEGIN { exit !(l >= 1 && l < 60) }' || fail "time lost '$lost' not in [1, 60) s"

# A hand-made BigGAN-PyTorch run beside ours.
bp=$WORK/bp/logs
mkdir -p "$bp/BigGAN_C10"
printf '{"itr": 10, "IS_mean": 2.5, "IS_std": 0.1, "FID": 90.5, "_stamp": 1600000000.0}\n{"itr": 20, "IS_mean": 3.5, "IS_std": 0.1, "FID": 70.25, "_stamp": 1600000100.0}\n' \
  >"$bp/BigGAN_C10_log.jsonl"
for i in $(seq 1 30); do echo "$i: 1.000e+00" >>"$bp/BigGAN_C10/G_loss.log"; echo "$i: 5.000e-01" >>"$bp/BigGAN_C10/D_loss_real.log"; done
compare=$("$BIN" logs compare "$run" "$bp/BigGAN_C10_log.jsonl" --points 3)
grep -q "Aligned by iteration" <<<"$compare" || fail "compare"
grep -Eq 'FID \(min\) 70.25 @ 20' <<<"$compare" || fail "best FID of the BigGAN-PyTorch run"

# CSV: one row per logged value (header + at least 30 iterations x 10 train metrics).
"$BIN" logs export --csv "$run" "$bp/BigGAN_C10" --output "$WORK/all.csv"
[[ $(head -n 1 "$WORK/all.csv") == "run,source,itr,time,images_seen,metric,value" ]] || fail "CSV header"
(($(grep -c '^tiny,train,' "$WORK/all.csv") >= 300)) || fail "CSV rows"
grep -q '^BigGAN_C10,eval,20,1600000100,,FID,70.25$' "$WORK/all.csv" || fail "CSV BigGAN-PyTorch row"
# An --output that is one of the logs read (a slip of the tab key) is refused, the log kept.
for log in "$run/logs/metrics.jsonl" "$bp/BigGAN_C10/G_loss.log" "$bp/BigGAN_C10_log.jsonl"; do
  before=$(md5sum <"$log")
  bash "$SRC/tests/cli/expect_error.sh" 2 "--output $log is the same file as the run file" \
    "$BIN" logs export --csv "$run" "$bp/BigGAN_C10" "$bp/BigGAN_C10_log.jsonl" --output "$log" || exit 1
  [[ $(md5sum <"$log") == "$before" ]] || fail "a refused export changed $log"
done

if ! command -v gnuplot >/dev/null; then echo "SKIP: gnuplot not installed; figures and report untested"; exit 77; fi
"$BIN" logs plot "$run" >"$WORK/figures.txt"
for f in tiny_losses tiny_throughput tiny_sv_G tiny_sv_D; do
  [[ $(file "$run/plots/$f.png") == *"PNG image data, 1100 x 620"* ]] || fail "$f.png is not a 1100x620 PNG"
  (($(stat -c %s "$run/plots/$f.png") > 10000)) || fail "$f.png looks empty"
  grep -q "<svg" "$run/plots/$f.svg" || fail "$f.svg"
done
html=$("$BIN" logs report "$run" "$bp/BigGAN_C10" --output "$WORK/report")
[[ -f $html ]] || fail "no report"
(($(grep -o 'data:image/png;base64' "$html" | wc -l) >= 8)) || fail "the report embeds too few images"

# Bad input names the file and line.
mkdir -p "$WORK/bad/logs"
printf '{"itr":1,"G_loss":1}\n{oops\n{"itr":3}\n' >"$WORK/bad/logs/metrics.jsonl"
set +e; out=$("$BIN" logs summary "$WORK/bad" 2>&1); code=$?; set -e
[[ $code != 0 ]] && grep -q "metrics.jsonl:2: not a JSON object" <<<"$out" || fail "malformed log: $out"
: >"$WORK/bad/logs/metrics.jsonl"
set +e; out=$("$BIN" logs summary "$WORK/bad" 2>&1); code=$?; set -e
[[ $code != 0 ]] && grep -q "no logged iterations" <<<"$out" || fail "empty log: $out"

# The report in a real browser: the screenshot must show the figures (large, non-blank).
chrome=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chrome ]]; then echo "SKIP (report rendering): Chromium not installed (apt-get install chromium)"; exit 0; fi
timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,2400 \
  --screenshot="$WORK/shot.png" "file://$html" >/dev/null 2>&1 || true
[[ -f $WORK/shot.png ]] || fail "Chromium wrote no screenshot"
[[ $(file "$WORK/shot.png") == *"PNG image data, 1200 x 2400"* ]] || fail "screenshot size: $(file "$WORK/shot.png")"
# Not blank, and the figures are there: text and tables are grey, the plotted lines are
# saturated colour (0.9% of the page for the run above; a page without figures has none).
/usr/bin/python3 - "$WORK/shot.png" <<'PY' || fail "the screenshot does not show the figures"
import sys
try:
    from PIL import Image
except ImportError:
    import os
    size = os.path.getsize(sys.argv[1])
    print(f"(PIL missing: size check only) {size} bytes")
    sys.exit(0 if size > 60000 else 1)
img = Image.open(sys.argv[1]).convert("RGB")
pixels = list(img.getdata())
ink = sum(1 for p in pixels if sum(p) < 720) / len(pixels)
coloured = sum(1 for p in pixels if max(p) - min(p) > 80) / len(pixels)
print(f"screenshot {img.size[0]}x{img.size[1]}: {ink:.1%} non-white, {coloured:.2%} saturated (plot lines)")
sys.exit(0 if ink > 0.01 and coloured > 0.002 else 1)
PY
echo "report rendered by Chromium"
