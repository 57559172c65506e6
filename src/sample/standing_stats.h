// Exact standing statistics (BigGAN-PyTorch's accumulate_standing_stats): reset G's batch-norm
// statistics, run train-mode forwards on fresh noise, keep their exact average for eval mode.
#pragma once

#include <cstdint>

#include "model/networks.h"

namespace biggan::sample {

// Noise from its own generator seeded with `seed`: the global RNG (and so training) is not
// touched, and every rank computes the same statistics. z_var and truncation as in sample_z,
// so the statistics match the latents they will be used with (TFHub's advice per truncation).
void accumulate_standing_stats(model::Generator& G, int batches, std::int64_t batch_size, std::uint64_t seed,
                               double z_var = 1.0, double truncation = 0.0);

}  // namespace biggan::sample
