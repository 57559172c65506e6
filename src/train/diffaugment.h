// Differentiable Augmentation (Zhao et al., "Differentiable Augmentation for Data-Efficient GAN
// Training", NeurIPS 2020), as its reference DiffAugment_pytorch.py defines the transforms:
//   color        brightness + U(-0.5, 0.5); saturation x U(0, 2) around the per-pixel channel
//                mean; contrast x U(0.5, 1.5) around the image mean;
//   translation  shifts of up to 1/8 of the side in each direction, zero padding;
//   cutout       a zeroed square of half the side, centred anywhere in the image.
// Each transform is differentiable in its input, so G's gradient flows through.
//
// Parameters are drawn per image from a key of its own (a counter-based hash, no generator
// state), on the CPU, then copied to the batch's device without waiting on it. A fake image's
// key is its place in the global batch (micro-step, global slot, row), like its latent; a real
// image's key is its dataset index within the D step. Ranks group the real images of a D step
// differently (the loader interleaves them), so keying by place would augment an image
// differently on 1 and N ranks; keyed by index it is augmented the same.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "config/sections.h"
#include "train/micro_step.h"

namespace biggan::train {

// One draw per image for every transform of the policy (CPU tensors of B entries).
struct AugmentParameters {
  torch::Tensor brightness, saturation, contrast;  // float32 in [0, 1)
  torch::Tensor shift_h, shift_w;                  // int64 in [-side/8, side/8]
  torch::Tensor cutout_h, cutout_w;                // int64 cutout centres
};

AugmentParameters draw_parameters(const config::AugmentPolicy& policy, const std::vector<std::uint64_t>& image_keys,
                                  std::int64_t height, std::int64_t width);

// The policy's transforms in its order.
torch::Tensor apply_augmentation(const torch::Tensor& x, const config::AugmentPolicy& policy, const AugmentParameters& p);

// draw_parameters then apply_augmentation, for x's images with these keys.
torch::Tensor diff_augment(const torch::Tensor& x, const config::AugmentPolicy& policy,
                           const std::vector<std::uint64_t>& image_keys);

// The training step's augmentation of one iteration.
struct DiffAugment {
  config::AugmentPolicy policy;  // empty: off, inputs are returned as they are
  int seed = 0;
  int rank = 0;
  int D_accumulations = 1;
  int G_accumulations = 1;
  std::int64_t itr = 0;
  // The dataset index of each row of this rank's real batch for the iteration.
  std::vector<std::int64_t> real_indices;

  bool enabled() const { return !policy.empty(); }
  // Generated images of micro-step `m`, keyed by (micro-step, global slot, row).
  torch::Tensor fake(const torch::Tensor& x, const MicroStep& m) const;
  // Rows [first_row, first_row + x.size(0)) of the real batch, in D step m.step.
  torch::Tensor real(const torch::Tensor& x, const MicroStep& m, std::int64_t first_row) const;
};

}  // namespace biggan::train
