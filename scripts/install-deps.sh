#!/usr/bin/env bash
# Installs every build and run dependency of biggan from Debian bookworm with apt-get.
# Idempotent: packages already present are skipped, so a second run costs seconds.
# Used by the README's commands, .ci/run and docker/Dockerfile: keep it the one install path.
set -euo pipefail

# Build + run dependencies (see ../shared/reference/build-facts.md).
# libopenblas0-openmp replaces the netlib reference BLAS that Debian's libtorch uses by
# default (10x faster matrix products; convolutions go through oneDNN either way).
BUILD_PACKAGES=(
  build-essential cmake git pkg-config ca-certificates ccache
  libtorch-dev libdnnl-dev
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools
  libyaml-cpp-dev
  libboost-program-options-dev
  libgtest-dev googletest
  nlohmann-json3-dev
  libopenblas0-openmp
  libstb-dev zlib1g-dev libzip-dev
  libjpeg62-turbo-dev libpng-dev hdf5-plugin-lzf liblzf-dev
  libjemalloc-dev
  dataset-fashion-mnist
  gnuplot-nox
)
# Used by optional tests (Python round trip of .pth files, h5py-layout fixtures).
# The Slurm integration tests start a private cluster (tests/slurm/cluster_up.sh); the log
# report test renders the HTML page in headless Chromium.
TEST_PACKAGES=(python3-torch python3-h5py python3-numpy python3-jsonschema
               slurm-wlm slurmctld slurmd slurm-client munge chromium python3-pil
               python3-torchvision)

want=("${BUILD_PACKAGES[@]}")
if [[ "${BIGGAN_INSTALL_TEST_DEPS:-1}" == "1" ]]; then
  want+=("${TEST_PACKAGES[@]}")
fi
if [[ -n "${BIGGAN_EXTRA_PACKAGES:-}" ]]; then
  read -r -a extra <<<"${BIGGAN_EXTRA_PACKAGES}"
  want+=("${extra[@]}")
fi

missing=()
for pkg in "${want[@]}"; do
  if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#want[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
