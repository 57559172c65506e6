#include "core/blas.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace biggan::core {
namespace {

// Set before the second start, so that the log can say what OpenBLAS had chosen by itself.
constexpr const char* kDetectedVariable = "BIGGAN_OPENBLAS_DETECTED";

// OpenBLAS's own query functions, looked up at run time: LibTorch links whichever BLAS the
// libblas.so.3 alternative names, and only OpenBLAS has these.
std::string openblas_string(const char* function) {
  using Query = char* (*)();
  const auto query = reinterpret_cast<Query>(dlsym(RTLD_DEFAULT, function));
  if (!query) return "";
  const char* text = query();
  return text ? text : "";
}

}  // namespace

std::string blas_core() { return openblas_string("openblas_get_corename"); }

std::string blas_core_override(const std::string& detected, bool has_avx2_fma, bool has_avx512) {
  if (detected != "Prescott") return "";  // OpenBLAS's fallback for a CPU it does not know
  if (has_avx512) return "SkylakeX";
  if (has_avx2_fma) return "Haswell";
  return "";
}

void use_blas_kernels_for_this_cpu(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;
  __builtin_cpu_init();
  const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  const std::string detected = blas_core();
  const std::string wanted = blas_core_override(detected, avx2_fma, avx512);
  if (wanted.empty()) return;
  setenv("OPENBLAS_CORETYPE", wanted.c_str(), 1);
  setenv(kDetectedVariable, detected.c_str(), 1);
  execv("/proc/self/exe", argv);
  // Still here: the program runs on, with the kernels OpenBLAS chose, and says so.
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv(kDetectedVariable);
  std::cerr << ("biggan: warning: OpenBLAS chose its " + detected + " kernels on a CPU with " +
                (avx512 ? "AVX-512" : "AVX2") + "; could not restart with OPENBLAS_CORETYPE=" + wanted +
                ". Set it yourself for faster matrix products.\n")
            << std::flush;
}

std::string blas_description() {
  const std::string config = openblas_string("openblas_get_config");
  if (config.empty()) return "not OpenBLAS";
  const std::string core = blas_core();
  const char* requested = std::getenv("OPENBLAS_CORETYPE");
  const char* detected = std::getenv(kDetectedVariable);
  std::string how = "chosen by OpenBLAS";
  if (requested && detected) how = std::string("set by biggan: OpenBLAS chose ") + detected;
  else if (requested) how = "from OPENBLAS_CORETYPE";
  return config + " (core " + core + ", " + how + ")";
}

}  // namespace biggan::core
