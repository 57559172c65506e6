// One BigGAN training iteration with BigGAN-PyTorch's semantics (train_fns.GAN_training_function,
// spec §3.3), data-parallel: gradients are averaged across ranks once per optimizer step, after
// every accumulation micro-step.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "distributed/collectives.h"
#include "model/networks.h"
#include "optim/adam.h"
#include "train/diffaugment.h"
#include "train/micro_step.h"

namespace biggan::train {

// The networks and their optimizers. G_ema is null without train.ema. With
// finetune.freeze_D_blocks, D's lowest layers are in D_frozen: no gradient, not in D_optim, and
// in eval mode while training (their SN state stays too).
struct Gan {
  Gan(const config::Config& config, const torch::Device& device);
  // Training mode for an iteration: G, D (but its frozen layers) and G_ema.
  void train_mode();
  // toggle_grads for D; frozen layers never require a gradient.
  void set_D_requires_grad(bool on);
  // The rates of the next optimizer steps (optim.lr_schedule moves them every iteration).
  void set_learning_rates(double G_lr, double D_lr);

  model::Generator G{nullptr};
  model::Discriminator D{nullptr};
  model::Generator G_ema{nullptr};
  std::unique_ptr<torch::optim::Adam> G_optim, D_optim;
  // Both optimizers' steps; per_tensor only to measure the multi-tensor step against.
  optim::AdamKernels adam_kernels = optim::AdamKernels::foreach;
  std::vector<std::shared_ptr<torch::nn::Module>> D_frozen;
};

// Fresh noise for one micro-step: z (n, dim_z) and labels y (n,).
using NoiseSource = std::function<std::pair<torch::Tensor, torch::Tensor>(const MicroStep& micro_step, std::int64_t n)>;

struct IterationMetrics {
  // BigGAN-PyTorch's returned numbers (spec §3.3 item 9): the last D accumulation's unscaled
  // terms, and the last G accumulation's loss divided by num_G_accumulations.
  double G_loss = 0, D_loss_real = 0, D_loss_fake = 0;
  // Means over every D step and accumulation, and over the G accumulations (unscaled), across ranks.
  double G_loss_mean = 0, D_loss_real_mean = 0, D_loss_fake_mean = 0;
  // Norms of the synchronised gradients of the last D step and of the G step.
  double G_grad_norm = 0, D_grad_norm = 0;
};

// x, y: this rank's real images for the iteration (batch_size * num_D_steps * num_D_accumulations).
// `augment` transforms every D input (real and fake, D and G steps); by default it is off.
IterationMetrics train_iteration(Gan& gan, const config::Config& config, const torch::Tensor& x,
                                 const torch::Tensor& y, const NoiseSource& noise, distributed::Collectives& collectives,
                                 const DiffAugment& augment = DiffAugment{});

// BigGAN's modified orthogonal regularisation, added to the gradients:
// grad += strength * 2 * ((W W^T) * (1 - I)) W for every weight of 2+ dims not in `skip`.
void add_ortho_gradient(torch::nn::Module& net, double strength, const std::vector<torch::Tensor>& skip);

// EMA of G over parameters and buffers (utils.ema): G_ema * decay + G * (1 - decay), with decay 0
// before `ema_start` (G_ema * 0 + G, as utils.ema computes it).
void update_ema(model::Generator& G, model::Generator& G_ema, double decay, std::int64_t itr, std::int64_t ema_start);
// G's parameters and buffers copied into G_ema (utils.ema's construction).
void copy_to_ema(model::Generator& G, model::Generator& G_ema);

// Buffers that differ between ranks after local batch statistics (BN running means and
// variances of non-cross-replica BN): averaged, so every rank holds the same model.
void average_bn_statistics(torch::nn::Module& net, distributed::Collectives& collectives);

}  // namespace biggan::train
