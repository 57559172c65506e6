// The Inception Score as BigGAN-PyTorch computes it (inception_utils.calculate_inception_score),
// in float64: `splits` contiguous chunks of N / splits samples (the remainder is ignored), each
// exp(mean_i KL(p_i || mean p)); the mean and the population std over the chunks.
#pragma once

#include <torch/torch.h>

#include "distributed/collectives.h"

namespace biggan::metrics {

struct InceptionScore {
  double mean = 0, std = 0;
};

// `logits`: (N, classes), any float dtype; softmax is taken in float64.
InceptionScore inception_score(const torch::Tensor& logits, int splits = 10);

// Per-split sums of `log_p` rows (float64 log-probabilities) that fall in split k, i.e. global
// index in [k * chunk, (k + 1) * chunk); rows past the last split are ignored. `first` is the
// global index of row 0. Adds into class_sums (splits, classes) and entropy (splits).
void add_split_sums(const torch::Tensor& log_p, std::int64_t first, std::int64_t chunk, torch::Tensor& class_sums,
                    torch::Tensor& entropy);
// The score from those sums: per split S_c = sum_i p_ic and H = sum_i sum_c p_ic log p_ic give
// KL sum = H - sum_c S_c log(S_c / chunk).
InceptionScore score_from_split_sums(const torch::Tensor& class_sums, const torch::Tensor& entropy, std::int64_t chunk);

// BigGAN-PyTorch's IS over `total` samples in global order: split k holds the samples with
// global index in [k * (total / splits), (k + 1) * (total / splits)); the rest is ignored.
// It keeps the per-split sums above, which add up over ranks.
class InceptionScoreAccumulator {
 public:
  InceptionScoreAccumulator(std::int64_t total, int splits);
  void add(const torch::Tensor& logits, std::int64_t global_offset);
  InceptionScore finalize(distributed::Collectives& collectives) const;  // collective

 private:
  std::int64_t total_, chunk_;
  int splits_;
  torch::Tensor class_sums_, entropy_;  // float64 (splits, classes), (splits)
};

}  // namespace biggan::metrics
