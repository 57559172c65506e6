#include "core/cpu_isa.h"

#ifdef BIGGAN_WITH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace biggan::core {

#ifdef BIGGAN_WITH_DNNL
namespace {
// Every AVX-512 value of dnnl_cpu_isa_t includes avx512_core's bits (a bit mask, dnnl_types.h).
bool includes(dnnl_cpu_isa_t isa, dnnl_cpu_isa_t part) {
  return (static_cast<unsigned>(isa) & static_cast<unsigned>(part)) == static_cast<unsigned>(part);
}
}  // namespace

bool onednn_uses_avx512() {
  // oneDNN fixes its ISA at the first query; reading it once keeps the forward pass cheap.
  static const bool avx512 = includes(dnnl_get_effective_cpu_isa(), dnnl_cpu_isa_avx512_core);
  return avx512;
}

std::string onednn_isa_name() {
  const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  if (includes(isa, dnnl_cpu_isa_avx512_core_amx)) return "avx512_core_amx";
  if (includes(isa, dnnl_cpu_isa_avx512_core_bf16)) return "avx512_core_bf16";
  if (includes(isa, dnnl_cpu_isa_avx512_core_vnni)) return "avx512_core_vnni";
  if (includes(isa, dnnl_cpu_isa_avx512_core)) return "avx512_core";
  if (includes(isa, dnnl_cpu_isa_avx2_vnni)) return "avx2_vnni";
  if (includes(isa, dnnl_cpu_isa_avx2)) return "avx2";
  if (includes(isa, dnnl_cpu_isa_avx)) return "avx";
  if (includes(isa, dnnl_cpu_isa_sse41)) return "sse41";
  return "generic";
}
#else
// Built against a LibTorch whose oneDNN cannot be asked (a pip wheel): avx512_core needs AVX-512
// F, BW, VL and DQ, so those flags stand in; ONEDNN_MAX_CPU_ISA is not seen here.
bool onednn_uses_avx512() {
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return avx512;
}

std::string onednn_isa_name() {
  const std::string source = " (the CPU's flags; built without oneDNN's header)";
  if (onednn_uses_avx512()) return "avx512_core" + source;
  return (__builtin_cpu_supports("avx2") ? "avx2" : "below avx2") + source;
}
#endif

}  // namespace biggan::core
