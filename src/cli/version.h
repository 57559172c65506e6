// `biggan --version`: what this binary is and what it was built with.
#pragma once

#include <string>

namespace biggan::cli {

// "biggan 0.1.0 (git <hash>)" plus one line per library: LibTorch, MPI, HDF5, CUDA/NCCL.
std::string version_text();

}  // namespace biggan::cli
