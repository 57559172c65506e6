#!/usr/bin/env bash
# Installs the dependencies (if missing) and builds biggan into ./build (or $BIGGAN_BUILD_DIR).
# Arguments go to cmake's configure step (-DBIGGAN_BUILD_TESTS=OFF, ...).
# BIGGAN_BUILD_TARGETS="biggan" builds only those targets (the demo needs only the executable;
# the tests and benchmarks are built by the next plain build into the same folder).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR="${BIGGAN_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
targets=()
for t in ${BIGGAN_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}"
