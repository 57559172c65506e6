// src/core/cpu_isa.cpp as a build against a pip LibTorch compiles it (no oneDNN header, so the
// CPU's flags answer): prints onednn_uses_avx512() and onednn_isa_name() on one line for
// CpuIsa.TheFallbackWithoutOnednnAgreesWithOnednn.
#include <iostream>

#include "core/cpu_isa.h"

int main() {
  std::cout << biggan::core::onednn_uses_avx512() << " " << biggan::core::onednn_isa_name() << "\n";
  return 0;
}
