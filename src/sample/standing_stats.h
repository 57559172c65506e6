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

// G in the mode it is scored or sampled in: eval mode with exact standing statistics over
// `standing_batches` batches when that is > 0 (noise as above), else eval mode with its stored
// statistics when `eval_mode` (eval.G_eval_mode), else train mode.
void prepare_for_sampling(model::Generator& G, int standing_batches, bool eval_mode, std::int64_t batch_size,
                          std::uint64_t seed, double z_var = 1.0, double truncation = 0.0);

// The seed of the standing-statistics pass that scores iteration `itr` of a run with train.seed
// `seed`: training's evaluations and sheets use it, and so does `biggan eval`, which therefore
// reproduces training's scores. One seed for every rank, so that each computes the same
// statistics whatever the number of ranks.
std::uint64_t standing_seed(int seed, std::int64_t itr);

}  // namespace biggan::sample
