#!/usr/bin/env bash
# Prints the machine a test or benchmark ran on: CPU model, cores, vector ISA, the BLAS that
# LibTorch's libblas.so.3 resolves to (and the kernels OpenBLAS picked), threads, and the
# kernel-selection variables that change float results. A failure report quotes these lines.
set -uo pipefail
cpu="$(sed -n '/^model name[[:space:]]*: /{s///p;q}' /proc/cpuinfo)"
vendor="$(sed -n '/^vendor_id[[:space:]]*: /{s///p;q}' /proc/cpuinfo)"
isa="sse4.2"
grep -qw avx2 /proc/cpuinfo && isa="avx2"
grep -qw avx512f /proc/cpuinfo && isa="avx512"
grep -qw amx_tile /proc/cpuinfo && isa="avx512+amx"
blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
core="$(/usr/bin/python3 - 2>/dev/null <<'PY'
import ctypes
lib = ctypes.CDLL("libopenblas.so.0")
lib.openblas_get_corename.restype = ctypes.c_char_p
lib.openblas_get_config.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode(), "|", lib.openblas_get_config().decode())
PY
)"
echo "machine: CPU ${cpu:-unknown} (${vendor:-?}), $(nproc) threads available, vector ISA ${isa}"
echo "machine: BLAS ${blas}${core:+ (OpenBLAS kernels ${core})}"
echo "machine: OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" \
     "ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-unset} ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-unset}"
