#include "sample/noise.h"

#include "core/error.h"

namespace biggan::sample {

torch::Tensor sample_z(std::int64_t n, std::int64_t dim_z, double z_var, double truncation, at::Generator& gen) {
  if (truncation < 0) throw Error("truncation must be >= 0 (0: off), got " + std::to_string(truncation));
  torch::Tensor z = torch::randn({n, dim_z}, gen);
  if (truncation > 0) {
    // Rejection sampling; at threshold t a draw is kept with probability erf(t / sqrt 2), so even
    // t = 0.05 needs about 25 rounds for every entry to land.
    for (int round = 0; round < 100000; ++round) {
      const torch::Tensor outside = z.abs() > truncation;
      const std::int64_t redraw = outside.sum().item<std::int64_t>();
      if (redraw == 0) break;
      z.masked_scatter_(outside, torch::randn({redraw}, gen));
    }
  }
  return z * z_var;
}

}  // namespace biggan::sample
