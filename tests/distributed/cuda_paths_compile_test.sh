#!/usr/bin/env bash
# The CUDA-only code paths compile: builds the biggan_cuda_paths object library (the sources that
# test BIGGAN_WITH_CUDA or BIGGAN_WITH_NCCL, compiled with both on against a CUDA toolkit's
# headers; tests/CMakeLists.txt), then checks in the objects that the switched code was compiled
# rather than left out by the preprocessor: the NCCL calls are referenced and the version line
# says CUDA and NCCL are on.
#   cuda_paths_compile_test.sh BUILD_DIR OBJECT...
set -euo pipefail
build=$1; shift
fail() { echo "FAIL: $*"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cmake --build "$build" --target biggan_cuda_paths >"$log" 2>&1 ||
  { grep -E -m 15 -A3 "error|Error" "$log"; fail "the CUDA-only code paths do not compile (above)"; }
symbols=""
for object in "$@"; do
  [[ -s $object ]] || fail "$object was not written"
  symbols+=$(nm -C "$object")$'\n'
done
for call in ncclCommInitRank ncclAllReduce ncclBroadcast ncclCommAbort; do
  grep -qE " U $call\$" <<<"$symbols" || fail "no object calls $call: the BIGGAN_WITH_NCCL code was not compiled"
done
strings -a "$@" >"$log"
for line in "CUDA     on" "NCCL     on"; do
  grep -qF "$line" "$log" || fail "the version line's '$line' is in no object: the BIGGAN_WITH_CUDA code was not compiled"
done
echo "the CUDA-only code paths compile ($# objects)"
