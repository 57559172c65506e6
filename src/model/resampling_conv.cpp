#include "model/resampling_conv.h"

#include <sstream>
#include <stdexcept>
#include <string>

#include "model/tensor_layout.h"

namespace biggan::model {

namespace F = torch::nn::functional;

namespace {
void check_kernel(const char* where, const torch::Tensor& x, const torch::Tensor& weight) {
  if (x.dim() == 4 && weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3 && weight.size(1) == x.size(1))
    return;
  std::ostringstream message;
  message << where << ": expected an (N, C, H, W) input and an (out, C, 3, 3) weight, got input " << x.sizes()
          << " and weight " << weight.sizes();
  throw std::invalid_argument(message.str());
}

// Tap sums (kernel index t, 3x3 index u): phase 0 of an upsampled row reads input rows p-1 (tap
// 0 of the 3x3 kernel) and p (taps 1, 2); phase 1 reads p (taps 0, 1) and p+1 (tap 2).
torch::Tensor phase_taps(const torch::Tensor& like) {
  return torch::tensor({1.f, 0.f, 0.f, 0.f, 1.f, 1.f, 1.f, 1.f, 0.f, 0.f, 0.f, 1.f}, like.options()).view({2, 2, 3});
}

// Rows 2p-1 .. 2p+2 of the input feed pooled output row p: the 3x3 taps of conv rows 2p and 2p+1.
torch::Tensor pooled_taps(const torch::Tensor& like) {
  return torch::tensor({1.f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 1.f}, like.options()).view({4, 3});
}

// y (N, 4*out, H+1, W+1) from the 2x2 convolution with padding 1: channel block (2a + b) holds
// output phase (a, b), whose pixel (p, q) sits at y's (p + a, q + b). Returns (N, out, 2H, 2W)
// in y's memory format, in one copy: the strided view names every output pixel in y.
torch::Tensor interleave_phases(const torch::Tensor& y, std::int64_t out) {
  const std::int64_t N = y.size(0), H = y.size(2) - 1, W = y.size(3) - 1;
  const std::int64_t sN = y.stride(0), sC = y.stride(1), sH = y.stride(2), sW = y.stride(3);
  const torch::Tensor phases =
      y.as_strided({N, out, H, 2, W, 2}, {sN, sC, sH, 2 * out * sC + sH, sW, out * sC + sW}, y.storage_offset());
  if (is_nhwc(y))
    return phases.permute({0, 2, 3, 4, 5, 1}).contiguous().view({N, 2 * H, 2 * W, out}).permute({0, 3, 1, 2});
  return phases.contiguous().view({N, out, 2 * H, 2 * W});
}
}  // namespace

torch::Tensor upsample_conv3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  check_kernel("upsample_conv3x3", x, weight);
  const std::int64_t out = weight.size(0), in = weight.size(1);
  // One (out * in, 9) x (9, 16) product: a 3-factor einsum took 2.5x as long here (77 against
  // 31 ms forward and backward for a 512x512 kernel, 2 threads), paid in every forward pass.
  const torch::Tensor taps = phase_taps(weight);
  const torch::Tensor mix = torch::einsum("atu,bsv->abtsuv", {taps, taps}).reshape({16, 9});
  const torch::Tensor per_phase = torch::matmul(weight.reshape({out * in, 9}), mix.t()).view({out, in, 2, 2, 2, 2});
  // (out, in, a, b, t, s) -> (a, b, out, in, t, s): phase (a, b)'s 2x2 kernel. For an NHWC
  // input it is written NHWC, the layout oneDNN and cuDNN would otherwise copy it into.
  const torch::Tensor kernels =
      is_nhwc(x) ? per_phase.permute({2, 3, 0, 4, 5, 1}).reshape({4 * out, 2, 2, in}).permute({0, 3, 1, 2})
           : per_phase.permute({2, 3, 0, 1, 4, 5}).reshape({4 * out, in, 2, 2});
  const torch::Tensor y = F::conv2d(x, kernels, F::Conv2dFuncOptions().bias(bias.defined() ? bias.repeat({4}) : bias).padding(1));
  return interleave_phases(y, out);
}

torch::Tensor conv3x3_avg_pool(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  check_kernel("conv3x3_avg_pool", x, weight);
  if (x.size(2) % 2 != 0 || x.size(3) % 2 != 0)
    throw std::invalid_argument("conv3x3_avg_pool: expected an even height and width, got " +
                                std::to_string(x.size(2)) + "x" + std::to_string(x.size(3)));
  const std::int64_t out = weight.size(0), in = weight.size(1);
  const torch::Tensor taps = pooled_taps(weight);
  const torch::Tensor mix = torch::einsum("tu,sv->tsuv", {taps, taps}).reshape({16, 9}) * 0.25;
  const torch::Tensor kernel = torch::matmul(weight.reshape({out * in, 9}), mix.t()).view({out, in, 4, 4});
  return F::conv2d(x, kernel, F::Conv2dFuncOptions().bias(bias).stride(2).padding(1));
}

}  // namespace biggan::model
