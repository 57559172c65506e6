#!/usr/bin/env bash
# bench/compare_biggan_pytorch.sh: bad arguments are refused with exit 2 and a message naming
# them; one real round of case B at 1 iteration (ours and BigGAN-PyTorch's bench_bp.py, about
# 30 s) prints both runs and a summary whose ratio is ours / theirs. Timings are not judged here.
# bench/gpu_compare.sh's and biggan_bench_train's bad settings are refused the same way.
#   compare_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
script=$src/bench/compare_biggan_pytorch.sh
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_refusal() {  # message args...
  local message=$1; shift
  local out code
  out=$(BIGGAN_BUILD_DIR=$build bash "$script" "$@" 2>&1); code=$?
  [[ $code == 2 ]] || fail "$* exited $code, expected 2: $out"
  grep -qF -- "$message" <<<"$out" || fail "$* did not say '$message': $out"
}
expect_refusal "unknown case 'D'" --cases "A D"
expect_refusal "'x' is not a count" --rounds x
expect_refusal "--rounds and --iters must be at least 1" --iters 0
expect_refusal "'0' is not a thread count" --threads "1 0"
expect_refusal "unknown argument '--fast'" --fast
# bench/gpu_compare.sh refuses bad settings before it builds anything (no GPU needed for that).
gpu_refusal() {  # message env-assignments...
  local message=$1; shift
  local out code
  out=$(env "$@" BP_BENCH="$script" OUT="$(mktemp -d)" bash "$src/bench/gpu_compare.sh" 2>&1); code=$?
  [[ $code == 2 ]] || fail "gpu_compare.sh with $* exited $code, expected 2: $out"
  grep -qF -- "$message" <<<"$out" || fail "gpu_compare.sh with $* did not say '$message': $out"
}
gpu_refusal "unknown part 'bogus' in PARTS (expected compare, levers, profile, nccl)" PARTS="nccl bogus"
gpu_refusal "GPU_COMPARE_BUDGET must be whole seconds, got '5m'" GPU_COMPARE_BUDGET=5m
gpu_refusal "'I128deep:x' in CASES is not CASE:BATCH with CASE I128 or I128deep" CASES="I128:64 I128deep:x"
gpu_refusal "'A:8' in CASES is not CASE:BATCH with CASE I128 or I128deep" CASES="A:8"
# gpu_compare's summary, fed rows as its runs write them: each ratio is of the right rows, a lever
# is set against the default run of its own case, and the NCCL checks pass through.
rows=$(mktemp)
cat >"$rows" <<'JSON'
{"impl": "biggan-pytorch", "case": "I128", "batch_size": 64, "median_seconds": 0.254, "real_images_per_second": 252.0, "peak_memory_GiB": 24.7}
{"impl": "ours", "label": "default", "case": "I128", "batch_size": 64, "precision": {"G": "fp32", "D": "fp32"}, "median_seconds": 0.191, "real_images_per_second": 335.0, "peak_memory_GiB": 51.8, "timed_peak_memory_GiB": 20.0}
{"impl": "ours", "label": "default", "case": "I128", "batch_size": 64, "precision": {"G": "bf16", "D": "bf16"}, "median_seconds": 0.152, "real_images_per_second": 421.0, "model_flops_utilization": 0.146}
{"impl": "ours", "label": "adam_per_tensor", "case": "I128deep", "batch_size": 64, "precision": {"G": "fp32", "D": "fp32"}, "median_seconds": 0.36, "real_images_per_second": 177.8, "peak_memory_GiB": 30.0, "timed_peak_memory_GiB": null}
{"impl": "ours", "label": "default", "case": "I128deep", "batch_size": 64, "precision": {"G": "fp32", "D": "fp32"}, "median_seconds": 0.30, "real_images_per_second": 213.3, "peak_memory_GiB": 20.0, "timed_peak_memory_GiB": 16.0}
{"impl": "biggan-pytorch", "label": "profile", "case": "I128deep", "batch_size": 64, "median_seconds": 0.52, "real_images_per_second": 123.0, "profile_totals": {"host_ms_per_iteration": 480.0, "operator_calls_per_iteration": 40000.0, "longest_call_operator": "aten::item", "longest_call_ms": 12.0}, "profile": [{"operator": "aten::mm", "self_ms_per_iteration": 30.0, "calls_per_iteration": 2000.0, "share": 0.06}]}
{"impl": "biggan-pytorch", "case": "I128deep", "batch_size": 64, "median_seconds": 0.371, "real_images_per_second": 172.5}
{"impl": "ours", "label": "profile", "case": "I128deep", "batch_size": 64, "precision": {"G": "fp32", "D": "fp32"}, "median_seconds": 0.40, "real_images_per_second": 160.0, "profile_totals": {"host_ms_per_iteration": 360.0, "operator_calls_per_iteration": 30000.0, "longest_call_operator": "aten::copy_", "longest_call_ms": 40.0}, "profile": [{"operator": "aten::copy_", "self_ms_per_iteration": 50.0, "calls_per_iteration": 900.0, "share": 0.14}], "profile_callers": [{"operator": "aten::copy_", "caller": "", "calls_per_iteration": 700.0}]}
{"check": "nccl_1rank", "ranks": 1, "ok": true}
JSON
/usr/bin/python3 - "$src/bench/gpu_summary.py" "$rows" <<'PY' || fail "gpu_summary.py: wrong summary"
import json, subprocess, sys
out = json.loads(subprocess.run(["/usr/bin/python3", sys.argv[1], sys.argv[2]], check=True, capture_output=True, text=True).stdout)
cases = {(c["case"], c["batch"]): c for c in out["cases"]}
assert set(cases) == {("I128", 64), ("I128deep", 64)}, out
i128, deep = cases[("I128", 64)], cases[("I128deep", 64)]
assert abs(i128["fp32_images_per_second_ratio"] - 335 / 252) < 1e-9 and i128["fp32_target_1.2x_met"], i128
assert abs(i128["bf16_vs_their_fp32"] - 421 / 252) < 1e-9 and not i128["bf16_target_2x_met"], i128
assert i128["bf16_mfu"] == 0.146 and not i128["bf16_mfu_target_35pct_met"], i128
assert abs(deep["fp32_images_per_second_ratio"] - 213.3 / 172.5) < 1e-9 and deep["fp32_target_1.2x_met"], deep
assert "bf16_vs_their_fp32" not in deep, deep  # no bf16 row for it
# Peak memory per run, BigGAN-PyTorch's whole-run figure beside ours; a run without a figure has none.
assert i128["memory_GiB"] == {"biggan-pytorch_fp32": {"peak_memory_GiB": 24.7},
                              "ours_fp32": {"peak_memory_GiB": 51.8, "timed_peak_memory_GiB": 20.0},
                              "ours_bf16": {}}, i128
assert deep["memory_GiB"] == {"biggan-pytorch_fp32": {}, "ours_fp32": {"peak_memory_GiB": 20.0, "timed_peak_memory_GiB": 16.0}}, deep
# A lever's peak against its default's; a figure the lever lacks (null) is left out.
assert out["levers_fp32"] == [{"lever": "adam_per_tensor", "case": "I128deep", "batch": 64, "median_seconds": 0.36,
                               "vs_default": 0.36 / 0.30, "peak_memory_GiB": 30.0,
                               "peak_memory_vs_default": 30.0 / 20.0}], out["levers_fp32"]
assert out["nccl_checks"] == [{"check": "nccl_1rank", "ranks": 1, "ok": True}], out
# A profiled run is neither a lever nor the default, ours or BigGAN-PyTorch's (which came before
# its default row above and must not be taken for it): each is reported with its host share.
shares = [p.pop("host_share_without_longest_call") for p in out["profiles"]]
assert len(out["profiles"]) == 2 and abs(shares[0] - 0.9) < 1e-12 and abs(shares[1] - 0.8) < 1e-12, out["profiles"]
assert out["profiles"] == [{"impl": "biggan-pytorch", "case": "I128deep", "batch": 64, "precision": "fp32",
                            "median_seconds": 0.52, "host_ms_per_iteration": 480.0,
                            "operator_calls_per_iteration": 40000.0, "longest_call_operator": "aten::item",
                            "longest_call_ms": 12.0, "top": [["aten::mm", 30.0, 2000.0]]},
                           {"impl": "ours", "case": "I128deep", "batch": 64, "precision": "fp32", "median_seconds": 0.40,
                            "host_ms_per_iteration": 360.0, "operator_calls_per_iteration": 30000.0,
                            "longest_call_operator": "aten::copy_", "longest_call_ms": 40.0,
                            "top": [["aten::copy_", 50.0, 900.0]], "top_callers": [["aten::copy_", "", 700.0]]}], \
    out["profiles"]
PY
rm -f "$rows"
# The benchmark itself: a bad count names the flag and the value, before MPI or torch start.
bench_out=$("$build/biggan_bench_train" --case B --warmup x 2>&1); code=$?
[[ $code == 2 ]] || fail "biggan_bench_train --warmup x exited $code, expected 2"
grep -qF -- "--warmup: expected a whole number, got 'x'" <<<"$bench_out" || fail "--warmup x: $bench_out"
bench_out=$("$build/biggan_bench_train" --case B --iterations 0 2>&1); code=$?
[[ $code == 2 ]] || fail "biggan_bench_train --iterations 0 exited $code, expected 2"
grep -qF -- "--threads and --iterations must be at least 1" <<<"$bench_out" || fail "--iterations 0: $bench_out"
bench_refusal() {  # message args...
  local message=$1; shift
  local out code
  out=$("$build/biggan_bench_train" "$@" 2>&1); code=$?
  [[ $code == 2 ]] || fail "biggan_bench_train $* exited $code, expected 2: $out"
  grep -qF -- "$message" <<<"$out" || fail "biggan_bench_train $* did not say '$message': $out"
}
bench_refusal "--device: expected cpu or cuda, got 'tpu'" --case B --device tpu
bench_refusal "unknown case 'D' (A | B | C | I128 | I128deep)" --case D
bench_refusal "--peak-tflops: expected a positive number, got '-1'" --case B --peak-tflops -1
bench_refusal "--batch: expected a whole number, got '8x'" --case B --batch 8x
bench_refusal "--cudnn-benchmark: expected a whole number, got 'on'" --case B --cudnn-benchmark on
bench_refusal "--cudnn-benchmark: expected 0 or 1, got 2" --case B --cudnn-benchmark 2
bench_refusal "--adam: expected foreach or per_tensor, got 'fused'" --case B --adam fused
# One iteration of I128 (configs/biggan128_bs256x8.yaml, ch 96) at batch 2 on the CPU: the JSON
# carries what the GPU comparison reads, consistent with itself.
bench_json=$(mktemp)
"$build/biggan_bench_train" --case I128 --batch 2 --iterations 1 --warmup 0 --threads 2 --peak-tflops 2 --profile 5 \
  >"$bench_json" 2>/dev/null || fail "biggan_bench_train --case I128 --batch 2 failed"
/usr/bin/python3 - "$bench_json" <<'PY' || fail "the I128 JSON is not consistent"
import json, sys
d = json.load(open(sys.argv[1]))
assert d['case'] == 'I128' and d['batch_size'] == 2 and d['device'] == 'cpu', d
assert d['precision'] == {'G': 'fp32', 'D': 'fp32'}, d
assert d['cudnn_benchmark'] is False, d  # cuDNN's autotuner is a CUDA device's alone
assert d['adam'] == 'foreach', d  # the multi-tensor step, as training uses
assert abs(d['real_images_per_second'] - 2 / d['median_seconds']) < 1e-6 * d['real_images_per_second'], d
# model/flops.h (checked against the profiler in tests/model/flops_test.cpp) gives BigGAN 128
# ch96 0.685 TFLOP per iteration at batch 2 in the original's op order, 0.447 as executed: the
# I128 config (ch 96, attention at 64) was loaded, not the bench's small cases.
assert abs(d['model_tflops_per_iteration'] - 0.6847) < 0.001, d
assert abs(d['executed_tflops_per_iteration'] - 0.4465) < 0.001, d
assert abs(d['model_flops_utilization'] - d['model_tflops_per_second'] / 2) < 1e-9, d
assert 0.5 < d['peak_memory_GiB'] < 24, d
assert d['timed_peak_memory_GiB'] == d['peak_memory_GiB'], d  # no warm-ups: the timed iteration is the run
# The profile: the top 5 operators, and the host's time in all of them, which on the CPU is
# nearly the whole iteration (0.997 of it, measured on a Zen 4).
assert len(d['profile']) == 5 and d['profile'][0]['self_ms_per_iteration'] >= d['profile'][4]['self_ms_per_iteration'], d
totals = d['profile_totals']
assert 0.5 < totals['host_ms_per_iteration'] / 1000 / d['median_seconds'] < 1.05, totals
assert totals['operator_calls_per_iteration'] > 1000, totals
assert 0 < totals['longest_call_ms'] <= d['profile'][0]['self_ms_per_iteration'] and totals['longest_call_operator'], totals
# The calls per (operator, caller), most first; an operator's calls from any one caller are at
# most its calls in all.
callers = d['profile_callers']
assert len(callers) == 5 and all(a['calls_per_iteration'] >= b['calls_per_iteration']
                                 for a, b in zip(callers, callers[1:])), callers
calls = {p['operator']: p['calls_per_iteration'] for p in d['profile']}
assert all(c['calls_per_iteration'] <= calls.get(c['operator'], float('inf')) for c in callers), (callers, calls)
print('I128 on CPU:', d['median_seconds'], 's,', d['model_tflops_per_iteration'], 'TFLOP')
PY
# With a warm-up, the timed iterations' peak is taken apart from the whole run's (on a GPU it
# leaves out cuDNN's autotuning in the first iteration) and cannot exceed it.
"$build/biggan_bench_train" --case B --batch 2 --iterations 1 --warmup 1 --threads 2 \
  >"$bench_json" 2>/dev/null || fail "biggan_bench_train --case B --warmup 1 failed"
/usr/bin/python3 - "$bench_json" <<'PY' || fail "the timed peak is not within the run's"
import json, sys
d = json.load(open(sys.argv[1]))
assert 0.2 < d['timed_peak_memory_GiB'] <= d['peak_memory_GiB'] < 24, d
PY
rm -f "$bench_json"
BIGGAN_SHARED=/nonexistent expect_refusal "/nonexistent/reference/bp-bench/bench_bp.py not found"

[[ -f $src/../shared/reference/bp-bench/bench_bp.py ]] || { echo "SKIP: ../shared is absent"; exit 77; }
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "SKIP: /usr/bin/python3 has no torch"; exit 77; }
BIGGAN_BUILD_DIR=/nonexistent bash "$script" >/dev/null 2>&1; code=$?
[[ $code == 2 ]] || fail "a missing benchmark executable: exit $code, expected 2"
out=$(BIGGAN_BUILD_DIR=/nonexistent bash "$script" 2>&1)
grep -qF "/nonexistent/biggan_bench_train is not built" <<<"$out" || fail "a missing executable is not named: $out"
out_file=$(mktemp)
trap 'rm -f "$out_file"' EXIT
cd "$src"
BIGGAN_BUILD_DIR=$build bash "$script" --cases B --threads 1 --rounds 1 --iters 1 --warmup 0 --out "$out_file" \
  >/dev/null 2>&1 || fail "one round of case B failed"
/usr/bin/python3 - "$out_file" <<'PY' || fail "the JSON lines are not what was asked"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert len(rows) == 3, rows
ours, theirs, summary = (next(r for r in rows if r.get('program') == 'ours'),
                         next(r for r in rows if r.get('program') == 'biggan-pytorch'), rows[2])
assert ours['case'] == theirs['case'] == 'B' and ours['threads_per_rank'] == theirs['threads'] == 1, rows
assert summary['benchmark'] == 'compare_biggan_pytorch' and summary['cpu'] and summary['blas'], summary
# Both programs ran with the OpenBLAS kernels that biggan chooses (src/core/blas.h).
if '(core ' in ours['blas_of_program']:
    core = ours['blas_of_program'].split('(core ')[1].split(',')[0]
    assert summary['blas'].endswith('(OpenBLAS core %s)' % core), (summary['blas'], ours['blas'])
case = summary['cases'][0]
assert abs(case['ratio'] - ours['median_seconds'] / theirs['median_seconds']) < 1e-3, (case, ours, theirs)
assert case['meets_0.8'] == (case['ratio'] <= 0.8), case
print('compare: ratio', case['ratio'])
PY
# bench/bp_profile.py: BigGAN-PyTorch's iteration under PyTorch's profiler, bench_bp.py's record
# with the host figures that biggan_bench_train --profile prints.
bp=$src/../shared/reference/bp-bench/bench_bp.py
profile_refusal() {  # message args...
  local message=$1; shift
  local out code
  out=$(/usr/bin/python3 "$src/bench/bp_profile.py" "$@" 2>&1); code=$?
  [[ $code == 1 ]] || fail "bp_profile.py $* exited $code, expected 1: $out"
  grep -qF -- "$message" <<<"$out" || fail "bp_profile.py $* did not say '$message': $out"
}
profile_refusal "bp_profile: /nonexistent/bench_bp.py not found" --bench /nonexistent/bench_bp.py B
profile_refusal "--top must be at least 1, got 0" --bench "$bp" --top 0 B
profile_refusal "--out is not taken" --bench "$bp" B --out "$out_file"
profile_refusal "--iters must be at least 1, got 0" --bench "$bp" B --batch 2 --warmup 0 --iters 0
/usr/bin/python3 "$src/bench/bp_profile.py" --bench "$bp" --top 4 B --threads 1 --batch 2 --warmup 0 --iters 1 \
  2>/dev/null | tail -1 >"$out_file" || fail "bp_profile.py on case B failed"
/usr/bin/python3 - "$out_file" <<'PY' || fail "bp_profile.py's record is not consistent"
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d['benchmark'] == 'biggan_pytorch_profile' and d['case'] == 'B' and d['batch_size'] == 2, d
assert d['iterations'] == 1 and d['threads'] == 1, d
assert len(d['profile']) == 4 and d['profile'][0]['self_ms_per_iteration'] >= d['profile'][3]['self_ms_per_iteration'], d
totals = d['profile_totals']
# On the CPU the host's time in operators is nearly the whole profiled iteration.
assert 0.5 < totals['host_ms_per_iteration'] / 1000 / d['median_seconds'] < 1.05, (totals, d['median_seconds'])
assert totals['operator_calls_per_iteration'] > 1000, totals
assert 0 < totals['longest_call_ms'] <= totals['host_ms_per_iteration'] and totals['longest_call_operator'], totals
print('bp_profile B:', totals['operator_calls_per_iteration'], 'operator calls per iteration')
PY
echo "PASS"
