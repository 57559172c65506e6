// Latents for sampling: BigGAN-PyTorch's z_var (which its Distribution uses as the *standard
// deviation* of normal_, despite the name), and the true truncation trick it lacks.
#pragma once

#include <torch/torch.h>

namespace biggan::sample {

// (n, dim_z) float32: N(0, 1) scaled by z_var. With truncation > 0, a standard normal truncated
// to [-truncation, truncation] (the truncation trick as StudioGAN draws it with scipy's
// truncnorm; the original has none), then scaled: entries outside are redrawn until they fall
// inside, or below truncation 0.01, where that takes thousands of rounds, drawn through the
// truncated normal's inverse CDF.
torch::Tensor sample_z(std::int64_t n, std::int64_t dim_z, double z_var, double truncation, at::Generator& gen);

// What a keyed latent is for: each purpose its own stream, so that evaluating never draws the
// latents an export or a standing-statistics pass drew.
enum class LatentPurpose : std::uint64_t { evaluation = 1, classifier_metric = 2, samples_export = 3, standing_stats = 4 };

struct Latents {
  torch::Tensor z;  // (n, dim_z) float32
  torch::Tensor y;  // (n,) int64 in [0, n_classes)
};

// Samples [first, first + n) of the stream (purpose, seed): sample i is drawn from its own
// generator keyed by (purpose, seed, i), so it is the same whichever rank, batch or shard
// draws it, and a metric over samples [0, N) does not depend on the number of ranks.
Latents keyed_latents(LatentPurpose purpose, std::uint64_t seed, std::int64_t first, std::int64_t n, std::int64_t dim_z,
                      std::int64_t n_classes, double z_var = 1.0, double truncation = 0.0);

}  // namespace biggan::sample
