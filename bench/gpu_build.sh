# shellcheck shell=bash
# Sourced by bench/gpu_check.sh and bench/gpu_compare.sh on a GPU machine with a CUDA PyTorch (pip
# wheel), Open MPI and NCCL but without Debian's parallel HDF5, yaml-cpp, stb, Boost.PO, libzip
# and nlohmann-json: unpacks the Debian bookworm packages carried in .debs/ into /opt/bg
#   cd .debs && apt-get download libhdf5-openmpi-dev libhdf5-openmpi-103-1 libyaml-cpp-dev \
#     libyaml-cpp0.7 libstb-dev libstb0 libboost1.74-dev libboost-program-options1.74-dev \
#     libboost-program-options1.74.0 libzip-dev libzip4 nlohmann-json3-dev zlib1g-dev \
#     libjpeg62-turbo-dev libjpeg62-turbo libpng-dev libpng16-16 liblzf-dev liblzf1 \
#     libjemalloc-dev libjemalloc2
#   mkdir -p fallback && cd fallback && apt-get download libaec0 libsz2 libbz2-1.0
# (.debs/fallback holds runtime libraries used only where the machine lacks that soname), then
# configures build-gpu/ against the wheel's LibTorch and builds $GPU_BUILD_TARGETS (default
# biggan). Needs OUT and elapsed(); logs to $OUT/build.log; exits on a failed configure or build.
P=/opt/bg
mkdir -p $P /opt/bgx
for d in .debs/*.deb; do dpkg -x "$d" $P; done
for d in .debs/fallback/*.deb; do [ -e "$d" ] && dpkg -x "$d" /opt/bgx; done
# Keep only the fallback libraries whose soname the machine does not have.
for so in $(find /opt/bgx -name 'lib*.so.*' 2>/dev/null); do
  ldconfig -p | grep -q " $(basename "$so") " && rm -f "$so"
done
L=$P/usr/lib/x86_64-linux-gnu
[ -e $L/libz.so ] || ln -sf "$(ldconfig -p | awk '/libz.so.1 .*x86-64/{print $NF; exit}')" $L/libz.so
sed -i "s|^prefix=\"/usr\"|prefix=\"$P/usr\"|; s|mpicc.openmpi|mpicc|g" $P/usr/bin/h5pcc.openmpi
export LD_LIBRARY_PATH=$L:$L/hdf5/openmpi:$(find /opt/bgx -type d -name x86_64-linux-gnu | tr '\n' ':')${LD_LIBRARY_PATH:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HDF5_USE_FILE_LOCKING=FALSE
export TORCH_SHOW_CPP_STACKTRACES=1
TORCH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } | tee "$OUT/build.log"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DBIGGAN_BUILD_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$TORCH;$P/usr" -DHDF5_C_COMPILER_EXECUTABLE=$P/usr/bin/h5pcc.openmpi \
  -DBoost_DIR=$L/cmake/Boost-1.74.0 -DCMAKE_EXE_LINKER_FLAGS=-rdynamic \
  -DSTB_INCLUDE_DIR=$P/usr/include/stb -DSTB_LIBRARY=$L/libstb.so \
  -DPKG_CONFIG_EXECUTABLE=/nonexistent -DLIBZIP_INCLUDE_DIR=$P/usr/include -DLIBZIP_LIBRARY=$L/libzip.so \
  >>"$OUT/build.log" 2>&1 || { echo "configure failed"; grep -iE "error|not found" -A3 "$OUT/build.log" | head -40; exit 1; }
grep -E "CUDA|NCCL|Torch" "$OUT/build.log" | head -8
cmake --build build-gpu -j16 --target ${GPU_BUILD_TARGETS:-biggan} -- -k 0 >>"$OUT/build.log" 2>&1 ||
  { echo "build failed"; grep -E "error" -A2 "$OUT/build.log" | head -60; exit 1; }
echo "configured and built at $(elapsed) s"
ldd build-gpu/biggan | grep "not found"
build-gpu/biggan --version
# 2,048 random 128 px images with ImageNet's 1,000 labels in /tmp/syn/ILSVRC128.hdf5 (h5py from the wheel's side).
synthetic_imagenet() {
python3 - <<'PY'
import h5py, numpy as np, os
os.makedirs("/tmp/syn", exist_ok=True)
rng = np.random.default_rng(0)
with h5py.File("/tmp/syn/ILSVRC128.hdf5", "w") as f:
    f.create_dataset("imgs", data=rng.integers(0, 256, (2048, 3, 128, 128), dtype=np.uint8), chunks=(256, 3, 128, 128))
    f.create_dataset("labels", data=rng.integers(0, 1000, 2048).astype(np.int64), chunks=(256,))
PY
}
