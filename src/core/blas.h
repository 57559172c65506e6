// The BLAS behind LibTorch's matrix products. Debian's LibTorch calls OpenBLAS, which picks its
// kernels from the CPU's model number when it loads. Bookworm's OpenBLAS 0.3.21 does not know
// CPUs newer than itself (Intel's Emerald Rapids, family 6 model 207, for one) and falls back to
// its SSE3 "Prescott" kernels on them, although they have AVX-512: attention's batched products
// took twice as long, and case C's training step 4.5 s instead of 3.5 (bench/README.md).
#pragma once

#include <string>

namespace biggan::core {

// The OpenBLAS core to ask for (OPENBLAS_CORETYPE) when OpenBLAS chose `detected` on a CPU with
// these instruction sets, or "" to keep its choice. Only its generic fallback is replaced.
std::string blas_core_override(const std::string& detected, bool has_avx2_fma, bool has_avx512);

// Runs this program again (same arguments and environment, plus OPENBLAS_CORETYPE) when
// blas_core_override asks for another core: OpenBLAS reads the variable only while it loads.
// Called first in main, before MPI starts. Does nothing when OPENBLAS_CORETYPE is already set (the
// user's choice), when the BLAS is not OpenBLAS, or when its kernels fit the CPU.
void use_blas_kernels_for_this_cpu(char** argv);

// "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... SkylakeX MAX_THREADS=64 (core SkylakeX, set by
// biggan: OpenBLAS chose Prescott)", "... (core Haswell, chosen by OpenBLAS)", "... (core
// Prescott, from OPENBLAS_CORETYPE)", or "not OpenBLAS" for another BLAS.
std::string blas_description();

// OpenBLAS's core name ("SkylakeX"), or "" when the BLAS is not OpenBLAS.
std::string blas_core();

}  // namespace biggan::core
