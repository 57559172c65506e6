#include "cli/version.h"

#include <hdf5.h>
#include <torch/version.h>

#include "core/allocator.h"
#include "core/blas.h"
#include "core/cpu_isa.h"
#include "model/options.h"
#include "core/version.h"
#include "distributed/context.h"

namespace biggan::cli {

std::string version_text() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  std::string text = "biggan 0.1.0 (git " + git_hash() + ")\n";
  text += "  LibTorch " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
          std::to_string(TORCH_VERSION_PATCH) + "\n";
  text += "  MPI      " + distributed::mpi_library_version() + "\n";
  text += "  HDF5     " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release) +
#ifdef H5_HAVE_PARALLEL
          " (parallel)"
#else
          " (serial)"
#endif
          "\n";
#ifdef BIGGAN_WITH_CUDA
  text += "  CUDA     on\n";
#else
  text += "  CUDA     off (CPU build)\n";
#endif
#ifdef BIGGAN_WITH_NCCL
  text += "  NCCL     on\n";
#else
  text += "  NCCL     off\n";
#endif
  text += "  malloc   " + core::allocator_description() + "\n";
  text += "  BLAS     " + core::blas_description() + "\n";
  const bool nhwc = model::nhwc_activations(model::MemoryLayout::automatic, false, core::onednn_uses_avx512());
  text += "  oneDNN   " + core::onednn_isa_name() + " kernels (model.channels_last: auto runs " +
          (nhwc ? "NHWC" : "NCHW") + " activations on this CPU)\n";
  return text;
}

}  // namespace biggan::cli
