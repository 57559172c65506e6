#!/usr/bin/env bash
# Measures the spread of the iteration-parity figures (tests/train/gan_step_test.cpp) over the
# CPU kernels a correct run may use: 1 and 2 threads; oneDNN's best kernels and its AVX2 ones
# (what an AMD EPYC without AVX-512 runs); OpenBLAS's kernels for this CPU and its Zen ones;
# ATen's vectorised kernels and its scalar ones. Prints, per figure, the worst value of each
# setting and the worst over all, as JSON; the tolerances in gan_step_test.cpp are multiples of
# that worst. oneDNN's SSE4.1 kernels (ONEDNN_MAX_CPU_ISA=SSE41) are left out: they are far less
# accurate (D gradients 2.5e-3 apart) and no AVX2-less CPU is a target. Not a ctest test (it takes a few minutes): run it after changing a kernel-level
# detail, or on a new kind of CPU.
#   usage: tests/train/parity_spread.sh [build-dir]
set -euo pipefail
build="${1:-build}"
tests="$build/tests/biggan_tests"
[[ -x "$tests" ]] || { echo "parity_spread: $tests not found (build first)" >&2; exit 2; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

settings=(
  "BIGGAN_PARITY_THREADS=2"
  "BIGGAN_PARITY_THREADS=1"
  "BIGGAN_PARITY_THREADS=2 ONEDNN_MAX_CPU_ISA=AVX2"
  "BIGGAN_PARITY_THREADS=1 ONEDNN_MAX_CPU_ISA=AVX2"
  "BIGGAN_PARITY_THREADS=2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Zen"
  "BIGGAN_PARITY_THREADS=2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Zen ATEN_CPU_CAPABILITY=default"
)
i=0
for s in "${settings[@]}"; do
  env $s "$tests" --gtest_filter='Fixtures/IterationParity.*' >"$out/$i.log" 2>&1 ||
    { echo "parity_spread: a parity test failed with $s:" >&2; grep -E "Failure|PARITY" "$out/$i.log" >&2 || true; }
  echo "$s" >"$out/$i.setting"
  i=$((i + 1))
done

python3 - "$out" "$i" <<'EOF'
import json, sys, os
out, n = sys.argv[1], int(sys.argv[2])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
worst, per_setting = {}, []
for i in range(n):
    setting = open(os.path.join(out, f"{i}.setting")).read().strip()
    rows = [json.loads(l.split(" ", 1)[1]) for l in open(os.path.join(out, f"{i}.log")) if l.startswith("PARITY ")]
    figures = {}
    for r in rows:
        for k, v in r.items():
            if k == "variant":
                continue
            figures[k] = max(figures.get(k, 0.0), v)
            worst[k] = max(worst.get(k, 0.0), v)
    per_setting.append({"setting": setting, "variants": len(rows), "worst": figures})
print(json.dumps({"cpu": cpu, "settings": per_setting, "worst": worst}, indent=1))
EOF
