#!/usr/bin/env bash
# Side by side on this machine: our training iteration (build/biggan_bench_train) and
# BigGAN-PyTorch's own (../shared/reference/bp-bench/bench_bp.py, the unmodified original),
# run alternately in one invocation: same case, same threads, same LibTorch and BLAS.
#
#   bench/compare_biggan_pytorch.sh [--cases "A B C"] [--threads "1 2"] [--rounds R]
#                                   [--iters K] [--warmup W] [--out FILE.jsonl]
#
# Each round runs both programs once per case and thread count; the order alternates between
# rounds (ours first, then BigGAN-PyTorch first), so that a slow spell of a shared host falls
# on both. Every run prints its own JSON line (appended to --out); the last line is a JSON
# summary: per case and thread count the median over rounds of each program's median
# s/iteration, their ratio (ours / BigGAN-PyTorch), each round's ratio, and whether the ratio
# meets the target of 0.8.
#
# Both programs get the same OpenBLAS kernels: those biggan runs with (src/core/blas.h: it
# replaces OpenBLAS's generic fallback on CPUs that OpenBLAS does not know), exported as
# OPENBLAS_CORETYPE unless that is set already.
#
# Needs python3-torch (scripts/install-deps.sh installs it) and ../shared; BIGGAN_SHARED and
# BIGGAN_BUILD_DIR override the folders, PYTHON the interpreter (default: Debian's
# /usr/bin/python3, whose torch is the LibTorch we link, rather than a pyenv's on the PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
cases="A B C" threads="1 2" rounds=2 iters=3 warmup=2 out=""
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --cases) cases=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare_biggan_pytorch: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$rounds" "$iters" "$warmup"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "compare_biggan_pytorch: '$n' is not a count" >&2; exit 2; }
done
((rounds >= 1 && iters >= 1)) || { echo "compare_biggan_pytorch: --rounds and --iters must be at least 1" >&2; exit 2; }
for c in $cases; do
  [[ $c =~ ^(A|B|C)$ ]] || { echo "compare_biggan_pytorch: unknown case '$c' (A, B, C)" >&2; exit 2; }
done
for t in $threads; do
  [[ $t =~ ^[1-9][0-9]*$ ]] || { echo "compare_biggan_pytorch: '$t' is not a thread count" >&2; exit 2; }
done

shared="${BIGGAN_SHARED:-../shared}"
bp="$shared/reference/bp-bench/bench_bp.py"
ours="${BIGGAN_BUILD_DIR:-build}/biggan_bench_train"
[[ -f $bp ]] || { echo "compare_biggan_pytorch: $bp not found (set BIGGAN_SHARED)" >&2; exit 2; }
[[ -x $ours ]] || { echo "compare_biggan_pytorch: $ours is not built (bash scripts/build.sh)" >&2; exit 2; }
biggan="${BIGGAN_BUILD_DIR:-build}/biggan"
[[ -x $biggan ]] || { echo "compare_biggan_pytorch: $biggan is not built (bash scripts/build.sh)" >&2; exit 2; }
python=${PYTHON:-/usr/bin/python3}
[[ -x $python ]] || python=python3
"$python" -c 'import torch' 2>/dev/null ||
  { echo "compare_biggan_pytorch: $python cannot import torch (apt-get install python3-torch)" >&2; exit 2; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cpu=$(sed -n '/^Model name: */{s///p;q}' <<<"$(lscpu)")
isa=$(grep -o -w -E 'avx2|avx512f|amx_tile' /proc/cpuinfo | sort -u | paste -sd+ || true)
blas=$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || echo unknown)
core=$("$biggan" --version | sed -n 's/^ *BLAS .*(core \([A-Za-z0-9]*\),.*/\1/p')
if [[ -n $core ]]; then
  export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-$core}
  blas="$blas (OpenBLAS core $OPENBLAS_CORETYPE)"
fi
# One JSON object per run, tagged with who ran it, the round and the machine.
record() {  # program round json
  python3 -c '
import json, sys
rec = json.loads(sys.argv[4])
if "blas" in rec:  # what the program says of itself (ours: the OpenBLAS configuration and core)
    rec["blas_of_program"] = rec["blas"]
rec.update(program=sys.argv[1], round=int(sys.argv[2]), cpu=sys.argv[3], isa=sys.argv[5], blas=sys.argv[6])
print(json.dumps(rec))' "$1" "$2" "$cpu" "$3" "${isa:-avx2}" "$blas" | tee -a "$log" ${out:+-a "$out"}
}
run_ours() {  # case threads
  OMP_NUM_THREADS=$2 "$ours" --case "$1" --threads "$2" --iterations "$iters" --warmup "$warmup" | python3 -c '
import json, sys; print(json.dumps(json.load(sys.stdin)))'
}
run_bp() {  # case threads
  OMP_NUM_THREADS=$2 "$python" "$bp" "$1" --threads "$2" --iters "$iters" --warmup "$warmup" | tail -n 1
}

for ((r = 1; r <= rounds; r++)); do
  for t in $threads; do
    for c in $cases; do
      echo "compare_biggan_pytorch: round $r, case $c, $t thread(s)" >&2
      if ((r % 2)); then
        record ours "$r" "$(run_ours "$c" "$t")"
        record biggan-pytorch "$r" "$(run_bp "$c" "$t")"
      else
        record biggan-pytorch "$r" "$(run_bp "$c" "$t")"
        record ours "$r" "$(run_ours "$c" "$t")"
      fi
    done
  done
done

python3 - "$log" <<'EOF' | tee ${out:+-a "$out"}
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
def key(r):
    threads = r.get('threads_per_rank', r.get('threads'))
    return r['case'], threads
summary = []
for case, threads in sorted({key(r) for r in runs}):
    mine = {r['round']: r['median_seconds'] for r in runs if key(r) == (case, threads) and r['program'] == 'ours'}
    theirs = {r['round']: r['median_seconds'] for r in runs
              if key(r) == (case, threads) and r['program'] == 'biggan-pytorch'}
    ours_s, bp_s = statistics.median(mine.values()), statistics.median(theirs.values())
    summary.append({'case': case, 'threads': threads, 'ours_seconds': round(ours_s, 4),
                    'biggan_pytorch_seconds': round(bp_s, 4), 'ratio': round(ours_s / bp_s, 4),
                    'round_ratios': [round(mine[k] / theirs[k], 4) for k in sorted(mine) if k in theirs],
                    'meets_0.8': ours_s / bp_s <= 0.8})
first = runs[0]
print(json.dumps({'benchmark': 'compare_biggan_pytorch', 'cpu': first['cpu'], 'isa': first['isa'],
                  'blas': first['blas'], 'torch': next(r['torch'] for r in runs if 'torch' in r),
                  'rounds': max(r['round'] for r in runs), 'cases': summary}))
EOF
