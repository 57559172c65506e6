#include "model/options.h"

namespace biggan::model {

bool nhwc_activations(MemoryLayout layout, bool on_cuda, bool onednn_avx512) {
  switch (layout) {
    case MemoryLayout::nhwc: return true;
    case MemoryLayout::nchw: return false;
    case MemoryLayout::automatic: break;
  }
  // On AVX2, oneDNN's blocked NCHW kernels beat its NHWC ones by more than the reorders cost.
  return on_cuda || onednn_avx512;
}

}  // namespace biggan::model
