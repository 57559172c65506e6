// The instruction set oneDNN, LibTorch's convolution library, runs its kernels with on this CPU:
// its own choice, capped by ONEDNN_MAX_CPU_ISA when that is set. The memory layout that makes
// its convolutions fastest depends on it (model/options.h, MemoryLayout).
#pragma once

#include <string>

namespace biggan::core {

// True when oneDNN runs AVX-512 kernels (avx512_core or later), false for AVX2 and below.
bool onednn_uses_avx512();

// oneDNN's name for it: "avx512_core_amx", "avx2", ... (for logs and benchmark output).
std::string onednn_isa_name();

}  // namespace biggan::core
