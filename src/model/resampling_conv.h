// A 3x3 convolution next to a 2x resampling, computed at the lower resolution. Both are exact
// rewrites (equal in real arithmetic, ~1e-6 apart in float; tests/model/resampling_conv_test.cpp):
//
// * nearest 2x upsampling, then a 3x3 convolution (padding 1): each of the four output phases
//   (even/odd row, even/odd column) sees only a 2x2 window of the input, whose taps are sums of
//   the 3x3 taps. One 2x2 convolution with 4x the output channels computes all phases, which are
//   then interleaved: 16 instead of 36 multiply-adds per input pixel and channel pair.
// * a 3x3 convolution (padding 1), then 2x2 average pooling: one 4x4 convolution with stride 2,
//   its kernel the 3x3 one summed over the four pooled positions and divided by 4: 16 instead of
//   36 multiply-adds per output pixel and channel pair.
//
// Gradients flow through the kernel transforms to the original 3x3 weight, so parameters,
// optimiser state and checkpoints are those of the plain layers.
#pragma once

#include <torch/torch.h>

namespace biggan::model {

// conv2d(upsample_nearest_2x(x), weight, bias, padding 1); weight (out, in, 3, 3). The result
// keeps x's memory format.
torch::Tensor upsample_conv3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// avg_pool2d(conv2d(x, weight, bias, padding 1), 2); x's height and width must be even.
torch::Tensor conv3x3_avg_pool(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace biggan::model
