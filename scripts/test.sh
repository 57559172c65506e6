#!/usr/bin/env bash
# The README's test command: install, build, run every test suite under ctest.
# Extra arguments go to ctest (e.g. scripts/test.sh -L unit, or -R Config).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# Where the suite runs, first: float results depend on the CPU's kernels, so a failure report
# must say which CPU, BLAS and threads it came from.
bash scripts/machine.sh
echo "machine: ctest runs $(nproc) tests at a time; each test process sets its own LibTorch threads"
BUILD_DIR="${BIGGAN_BUILD_DIR:-build}"
cd "$BUILD_DIR"
# Open MPI refuses to start as root unless told; CI and containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --output-on-failure -j"$(nproc)" --timeout 900 "$@"
