#!/usr/bin/env bash
# No Docker engine here, so check what can be checked: the container recipes use the tested
# install and build path, and the CUDA image installs the install script's library packages.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }
for f in docker/Dockerfile docker/biggan.def; do
  grep -q 'scripts/install-deps.sh' "$root/$f" || fail "$f does not use scripts/install-deps.sh"
  grep -q 'scripts/build.sh' "$root/$f" || fail "$f does not use scripts/build.sh"
  grep -q 'bookworm' "$root/$f" || fail "$f is not based on Debian bookworm"
done
# Library packages of the install script that NGC's PyTorch image does not ship.
for pkg in libhdf5-openmpi-dev libyaml-cpp-dev libboost-program-options-dev nlohmann-json3-dev; do
  grep -q "^  $pkg\|[[:space:]]$pkg[[:space:]]" "$root/scripts/install-deps.sh" || fail "install-deps.sh lacks $pkg"
  grep -q "$pkg" "$root/docker/Dockerfile.cuda" || fail "Dockerfile.cuda does not install $pkg"
done
grep -q 'cmake_prefix_path' "$root/docker/Dockerfile.cuda" || fail "Dockerfile.cuda does not point CMake at the image's torch"
bash -n "$root/scripts/install-deps.sh" || fail "install-deps.sh has a syntax error"
echo "container recipes use the tested install path"
