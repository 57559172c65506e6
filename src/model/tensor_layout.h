// Which memory layout an activation is in, for layers that lay out their weights to match it.
#pragma once

#include <torch/torch.h>

namespace biggan::model {

// An (N, C, H, W) tensor stored NHWC (channels last) and not also NCHW-contiguous, as a tensor
// with one pixel or one channel is. oneDNN and cuDNN convolve it with an NHWC weight.
inline bool is_nhwc(const torch::Tensor& x) {
  return x.dim() == 4 && x.is_contiguous(torch::MemoryFormat::ChannelsLast) && !x.is_contiguous();
}

}  // namespace biggan::model
