// The Inception Score as BigGAN-PyTorch computes it (inception_utils.calculate_inception_score),
// in float64: `splits` contiguous chunks of N / splits samples (the remainder is ignored), each
// exp(mean_i KL(p_i || mean p)); the mean and the population std over the chunks.
#pragma once

#include <torch/torch.h>

namespace biggan::metrics {

struct InceptionScore {
  double mean = 0, std = 0;
};

// `logits`: (N, classes), any float dtype; softmax is taken in float64.
InceptionScore inception_score(const torch::Tensor& logits, int splits = 10);

}  // namespace biggan::metrics
