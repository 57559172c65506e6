#include "sample/noise.h"

#include <cmath>
#include <vector>

#include "core/error.h"

namespace biggan::sample {

namespace {

// Rejection keeps a draw with probability erf(t / sqrt 2): 1 in 125 at t = 0.01, 8 in 100,000 at
// t = 1e-4 and none at all once t underflows in float32, so below this threshold z comes from
// the truncated normal's inverse CDF instead.
constexpr double kRejectionFloor = 0.01;
constexpr int kRejectionRounds = 100000;

// Every entry of z outside [-t, t] redrawn from the normal truncated to it, through its inverse
// CDF: s uniform on (-erf(t / sqrt 2), erf(t / sqrt 2)), z = sqrt 2 erfinv(s), in float64 so that
// a tiny t keeps its digits.
void redraw_outside_by_inverse_cdf(torch::Tensor& z, double truncation, at::Generator& gen) {
  const torch::Tensor outside = z.abs() > truncation;
  const std::int64_t redraw = outside.sum().item<std::int64_t>();
  if (redraw == 0) return;
  const double mass = std::erf(truncation / std::sqrt(2.0));
  const torch::Tensor s = (torch::rand({redraw}, gen, torch::kFloat64) * 2 - 1) * mass;
  const torch::Tensor inside = (torch::erfinv(s) * std::sqrt(2.0)).clamp(-truncation, truncation);
  z.masked_scatter_(outside, inside.to(z.scalar_type()));
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {  // splitmix64 step
  h += 0x9e3779b97f4a7c15ULL + v;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

torch::Tensor sample_z(std::int64_t n, std::int64_t dim_z, double z_var, double truncation, at::Generator& gen) {
  if (truncation < 0) throw Error("truncation must be >= 0 (0: off), got " + std::to_string(truncation));
  torch::Tensor z = torch::randn({n, dim_z}, gen);
  if (truncation > 0) {
    // Rejection sampling where it lands: at t = 0.05 about 25 rounds for every entry.
    bool all_inside = false;
    if (truncation >= kRejectionFloor) {
      for (int round = 0; round < kRejectionRounds && !all_inside; ++round) {
        const torch::Tensor outside = z.abs() > truncation;
        const std::int64_t redraw = outside.sum().item<std::int64_t>();
        all_inside = redraw == 0;
        if (!all_inside) z.masked_scatter_(outside, torch::randn({redraw}, gen));
      }
    }
    if (!all_inside) redraw_outside_by_inverse_cdf(z, truncation, gen);
  }
  return z * z_var;
}

Latents keyed_latents(LatentPurpose purpose, std::uint64_t seed, std::int64_t first, std::int64_t n, std::int64_t dim_z,
                      std::int64_t n_classes, double z_var, double truncation) {
  std::vector<torch::Tensor> zs, ys;
  zs.reserve(static_cast<std::size_t>(n));
  ys.reserve(static_cast<std::size_t>(n));
  const std::uint64_t stream = mix(mix(0, static_cast<std::uint64_t>(purpose)), seed);
  for (std::int64_t i = first; i < first + n; ++i) {
    auto gen = at::detail::createCPUGenerator(mix(stream, static_cast<std::uint64_t>(i)));
    zs.push_back(sample_z(1, dim_z, z_var, truncation, gen));
    ys.push_back(torch::randint(0, n_classes, {1}, gen, torch::kInt64));
  }
  if (n == 0) return {torch::empty({0, dim_z}), torch::empty({0}, torch::kInt64)};
  return {torch::cat(zs), torch::cat(ys)};
}

}  // namespace biggan::sample
