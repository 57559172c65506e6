#pragma once

#include <string>

namespace biggan {

// "biggan 0.1.0 (git <hash>)" plus one line per library: LibTorch, MPI, HDF5, CUDA/NCCL.
std::string version_text();
std::string git_hash();

}  // namespace biggan
