#include "metrics/inception_score.h"

#include <cmath>

#include "core/error.h"

namespace biggan::metrics {

InceptionScore inception_score(const torch::Tensor& logits, int splits) {
  if (logits.dim() != 2) throw Error("Inception Score: logits must be (N, classes)");
  if (splits < 1) throw Error("Inception Score: splits must be >= 1, got " + std::to_string(splits));
  const std::int64_t chunk = logits.size(0) / splits;
  if (chunk < 1)
    throw Error("Inception Score: " + std::to_string(logits.size(0)) + " samples cannot make " + std::to_string(splits) +
                " splits");
  const torch::Tensor log_p = torch::log_softmax(logits.to(torch::kCPU, torch::kFloat64), 1);
  std::vector<double> scores;
  for (int k = 0; k < splits; ++k) {
    const torch::Tensor lp = log_p.narrow(0, k * chunk, chunk);
    const torch::Tensor p = lp.exp();
    const torch::Tensor log_mean = p.mean(0, /*keepdim=*/true).log();
    // p * (log p - log mean p), with 0 * log 0 taken as 0.
    const torch::Tensor kl = torch::where(p > 0, p * (lp - log_mean), torch::zeros_like(p)).sum(1).mean();
    scores.push_back(std::exp(kl.item<double>()));
  }
  double mean = 0, var = 0;
  for (const double s : scores) mean += s / splits;
  for (const double s : scores) var += (s - mean) * (s - mean) / splits;
  return {mean, std::sqrt(var)};
}

}  // namespace biggan::metrics
