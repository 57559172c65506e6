#include "metrics/frechet.h"


#include "core/error.h"

namespace biggan::metrics {

void MomentAccumulator::add(const torch::Tensor& features) {
  const torch::Tensor f = features.detach().to(torch::kCPU, torch::kFloat64);
  if (!sum_.defined()) {
    sum_ = torch::zeros({f.size(1)}, torch::kFloat64);
    outer_ = torch::zeros({f.size(1), f.size(1)}, torch::kFloat64);
  }
  sum_ += f.sum(0);
  outer_ += torch::mm(f.t(), f);
  count_ += f.size(0);
}

Moments MomentAccumulator::finalize(distributed::Collectives& collectives) const {
  if (!sum_.defined()) throw Error("moments: no features were added");
  torch::Tensor sum = sum_.clone(), outer = outer_.clone();
  torch::Tensor count = torch::tensor({count_}, torch::kInt64);
  collectives.allreduce_(sum);
  collectives.allreduce_(outer);
  collectives.allreduce_(count);
  Moments m;
  m.count = count.item<std::int64_t>();
  if (m.count < 2) throw Error("moments: need at least 2 samples, have " + std::to_string(m.count));
  m.mu = sum / static_cast<double>(m.count);
  m.sigma = (outer - static_cast<double>(m.count) * torch::outer(m.mu, m.mu)) / static_cast<double>(m.count - 1);
  m.sigma = (m.sigma + m.sigma.t()) / 2;  // exactly symmetric
  return m;
}

torch::Tensor sqrt_psd(const torch::Tensor& symmetric) {
  const torch::Tensor s = symmetric.to(torch::kFloat64);
  auto [values, vectors] = torch::linalg_eigh((s + s.t()) / 2, "L");
  return torch::mm(vectors * values.clamp_min(0).sqrt().unsqueeze(0), vectors.t());
}

double frechet_distance(const Moments& a, const Moments& b) {
  if (a.mu.sizes() != b.mu.sizes()) throw Error("Fréchet distance: feature dimensions differ");
  const torch::Tensor s1 = a.sigma.to(torch::kFloat64), s2 = b.sigma.to(torch::kFloat64);
  const torch::Tensor root1 = sqrt_psd(s1);
  const torch::Tensor middle = torch::mm(torch::mm(root1, s2), root1);
  const torch::Tensor eig = torch::linalg_eigvalsh((middle + middle.t()) / 2, "L").clamp_min(0);
  const double diff = (a.mu.to(torch::kFloat64) - b.mu.to(torch::kFloat64)).pow(2).sum().item<double>();
  const double fd = diff + s1.trace().item<double>() + s2.trace().item<double>() - 2 * eig.sqrt().sum().item<double>();
  return std::max(0.0, fd);  // rounding can leave -1e-12 for identical moments
}

}  // namespace biggan::metrics
