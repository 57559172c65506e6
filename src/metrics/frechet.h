// Feature moments accumulated across ranks, and the Fréchet distance between two Gaussians,
// computed in float64 with an exact symmetric matrix square root (never NaN; BigGAN-PyTorch's
// Newton-Schulz iteration can diverge: its issue #49).
#pragma once

#include <torch/torch.h>

#include "distributed/collectives.h"

namespace biggan::metrics {

struct Moments {
  torch::Tensor mu;     // float64 (D,)
  torch::Tensor sigma;  // float64 (D, D), unbiased
  std::int64_t count = 0;
};

// Sums of features and of their outer products, reduced over ranks in finalize().
class MomentAccumulator {
 public:
  void add(const torch::Tensor& features);  // (N, D), any float dtype
  Moments finalize(distributed::Collectives& collectives) const;  // collective

 private:
  torch::Tensor sum_, outer_;
  std::int64_t count_ = 0;
};

// Symmetric PSD square root through an eigendecomposition, negative eigenvalues clamped to 0.
torch::Tensor sqrt_psd(const torch::Tensor& symmetric);

// ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2), all in float64.
double frechet_distance(const Moments& a, const Moments& b);

}  // namespace biggan::metrics
