// One micro-step of a training iteration and the keys of its random draws. Latents and
// DiffAugment's transforms are drawn from generators keyed by (seed, iteration, micro-step,
// global slot), so that the same global batch gives the same draws on 1 or N ranks and a
// resumed run draws what the uninterrupted one would have.
#pragma once

#include <cstdint>
#include <string>

namespace biggan::train {

// D step `step`, accumulation `acc` on this rank (G: step 0).
struct MicroStep {
  enum class Phase { D, G } phase = Phase::D;
  int step = 0;
  int acc = 0;
  // "D_step0_acc1", "G_acc0": the names of BigGAN-PyTorch's recorded noise.
  std::string tag() const;
};

// The micro-step's place in the global batch: rank r's accumulation a is slot r x A + a, so one
// rank with 2A accumulations covers the same slots as two ranks with A.
std::int64_t global_slot(const MicroStep& m, int rank, int D_accumulations, int G_accumulations);

// splitmix64 over (seed, iteration, phase, D step, slot): the seed of one micro-step's latents.
std::uint64_t micro_step_seed(int seed, std::int64_t itr, const MicroStep& m, std::int64_t slot);

// A further, independent stream derived from a micro-step's seed (one per purpose).
std::uint64_t derived_seed(std::uint64_t seed, std::uint64_t purpose);

}  // namespace biggan::train
