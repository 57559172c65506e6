#include "train/gan_step.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "config/module_options.h"
#include "core/error.h"
#include "model/state_dict.h"
#include "optim/adam.h"
#include "optim/gradients.h"
#include "train/device_copy.h"

namespace biggan::train {

namespace {

// bf16 autocast around one network's forward passes on CUDA (fp32 master weights and optimizer
// state stay as they are). The CPU path is refused earlier, when the run starts.
class Autocast {
 public:
  explicit Autocast(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
#if TORCH_VERSION_MAJOR >= 2
    previous_ = at::autocast::is_autocast_enabled(at::kCUDA);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
    previous_ = at::autocast::is_enabled();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
    at::autocast::increment_nesting();
  }
  ~Autocast() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR >= 2
    at::autocast::set_autocast_enabled(at::kCUDA, previous_);
#else
    at::autocast::set_enabled(previous_);
#endif
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool enabled_;
  bool previous_ = false;
};

void set_requires_grad(torch::nn::Module& net, bool on) {
  for (auto& p : net.parameters()) p.set_requires_grad(on);
}

std::vector<torch::Tensor> gradients(torch::nn::Module& net) {
  std::vector<torch::Tensor> grads;
  for (auto& p : net.parameters()) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.mutable_grad());
  }
  return grads;
}

// The gradients' norm as a float64 scalar on their device, read with the losses at the end of
// the iteration: waiting for it here would drain the GPU's queue twice per iteration.
torch::Tensor total_norm(const std::vector<torch::Tensor>& grads, const torch::Device& device) {
  if (grads.empty()) return torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  // One multi-tensor kernel for the tensors' norms (float32 accumulation, as the gradients), their
  // squares summed in float64: a GPU step once spent four kernels per tensor here.
  return torch::stack(at::_foreach_norm(grads)).to(torch::kFloat64).pow(2).sum().sqrt();
}

// Averages gradients over ranks, then adds the ortho term (identical on every rank).
void synchronise_gradients(torch::nn::Module& net, double ortho, const std::vector<torch::Tensor>& ortho_skip,
                           distributed::Collectives& collectives) {
  average_across_ranks(gradients(net), collectives);
  if (ortho > 0) add_ortho_gradient(net, ortho, ortho_skip);
}

}  // namespace

Gan::Gan(const config::Config& config, const torch::Device& device) {
  G = model::Generator(config::generator_options(config));
  D = model::Discriminator(config::discriminator_options(config));
  G->to(device);
  D->to(device);
  if (config.train.ema) {
    G_ema = model::Generator(config::generator_options(config));
    G_ema->to(device);
    copy_to_ema(G, G_ema);  // as utils.ema at construction
    for (auto& p : G_ema->parameters()) p.set_requires_grad(false);
  }
  // FreezeD: D's lowest layers get no gradient and stay out of the optimizer.
  const int frozen_blocks = config.finetune.freeze_D_blocks;
  if (frozen_blocks > D->residual_blocks())
    throw ConfigError(config.where("finetune.freeze_D_blocks"), "finetune.freeze_D_blocks",
                      std::to_string(frozen_blocks) + " is more than D's " + std::to_string(D->residual_blocks()) +
                          " residual blocks");
  D_frozen = D->lowest_layers(frozen_blocks);
  for (const auto& m : D_frozen)
    for (auto& p : m->parameters()) p.set_requires_grad(false);
  std::vector<torch::Tensor> D_trainable;
  for (const auto& p : D->parameters())
    if (p.requires_grad()) D_trainable.push_back(p);
  const auto& o = config.optim;
  G_optim = std::make_unique<torch::optim::Adam>(
      G->parameters(), torch::optim::AdamOptions(o.G_lr).betas({o.G_B1, o.G_B2}).eps(o.adam_eps).weight_decay(0));
  D_optim = std::make_unique<torch::optim::Adam>(
      D_trainable, torch::optim::AdamOptions(o.D_lr).betas({o.D_B1, o.D_B2}).eps(o.adam_eps).weight_decay(0));
}

void Gan::train_mode() {
  G->train();
  D->train();
  for (const auto& m : D_frozen) m->eval();  // frozen layers keep their SN vectors too
  if (G_ema) G_ema->train();
}

void Gan::set_D_requires_grad(bool on) {
  for (auto& p : D->parameters()) p.set_requires_grad(on);
  for (const auto& m : D_frozen)
    for (auto& p : m->parameters()) p.set_requires_grad(false);
}

void Gan::set_learning_rates(double G_lr, double D_lr) {
  for (auto& group : G_optim->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(G_lr);
  for (auto& group : D_optim->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(D_lr);
}

IterationMetrics train_iteration(Gan& gan, const config::Config& c, const torch::Tensor& x, const torch::Tensor& y,
                                 const NoiseSource& noise, distributed::Collectives& collectives,
                                 const DiffAugment& augment) {
  auto& G = gan.G;
  auto& D = gan.D;
  const auto& t = c.train;
  const auto& d = c.derived;
  const std::int64_t bs = t.batch_size;
  const auto device = x.device();
  const bool G_bf16 = c.model.G_precision == model::Precision::bf16 && device.is_cuda();
  const bool D_bf16 = c.model.D_precision == model::Precision::bf16 && device.is_cuda();
  const std::vector<torch::Tensor> G_ortho_skip =
      c.model.G_shared ? G->shared_embedding->parameters() : std::vector<torch::Tensor>{};

  // Loss sums kept as tensors: one host sync per iteration, not per micro-step.
  torch::Tensor D_real_sum = torch::zeros({}, x.options()), D_fake_sum = torch::zeros({}, x.options());
  torch::Tensor G_sum = torch::zeros({}, x.options());
  torch::Tensor last_D_real, last_D_fake, last_G, D_grad_norm, G_grad_norm;
  IterationMetrics m;

  // 1. Both optimizers start without gradients; the real batch is split into chunks of bs.
  optim::release_gradients(*gan.G_optim);
  optim::release_gradients(*gan.D_optim);
  std::int64_t chunk = 0;
  if (c.optim.toggle_grads) {
    gan.set_D_requires_grad(true);
    set_requires_grad(*G, false);
  }

  // 2. D steps. G stays in train mode: its BN statistics and SN vectors move here too.
  for (int step = 0; step < t.num_D_steps; ++step) {
    optim::release_gradients(*gan.D_optim);
    for (int acc = 0; acc < d.num_D_accumulations; ++acc) {
      const MicroStep micro{MicroStep::Phase::D, step, acc};
      auto [z, y_fake] = noise(micro, d.G_batch_size);
      z = to_device(z.narrow(0, 0, bs), device, x.scalar_type());
      y_fake = to_device(y_fake.narrow(0, 0, bs), device, y_fake.scalar_type());
      torch::Tensor G_z;
      {
        torch::NoGradGuard no_grad;
        Autocast autocast(G_bf16);
        G_z = G->forward(z, G->shared(y_fake)).to(x.scalar_type());
      }
      // DiffAugment: the same kind of random transform for real and fake, each its own draw.
      G_z = augment.fake(G_z, micro);
      const auto x_chunk = augment.real(x.narrow(0, chunk * bs, bs), micro, chunk * bs);
      const auto y_chunk = y.narrow(0, chunk * bs, bs);
      ++chunk;
      torch::Tensor D_fake, D_real;
      Autocast autocast(D_bf16);
      if (t.split_D) {
        D_fake = D->forward(G_z, y_fake);
        D_real = D->forward(x_chunk, y_chunk);
      } else {
        const auto out = D->forward(torch::cat({G_z, x_chunk}), torch::cat({y_fake, y_chunk}));
        D_fake = out.narrow(0, 0, bs);
        D_real = out.narrow(0, bs, bs);
      }
      // Hinge loss.
      const auto loss_real = torch::relu(1.0 - D_real.to(x.scalar_type())).mean();
      const auto loss_fake = torch::relu(1.0 + D_fake.to(x.scalar_type())).mean();
      ((loss_real + loss_fake) / d.num_D_accumulations).backward();
      D_real_sum += loss_real.detach();
      D_fake_sum += loss_fake.detach();
      last_D_real = loss_real.detach();
      last_D_fake = loss_fake.detach();
    }
    synchronise_gradients(*D, c.optim.D_ortho, {}, collectives);
    if (step == t.num_D_steps - 1) D_grad_norm = total_norm(gradients(*D), device);
    optim::adam_step(*gan.D_optim, gan.adam_kernels);
  }

  // 3. G step: D frozen (toggle_grads), G trainable.
  if (c.optim.toggle_grads) {
    gan.set_D_requires_grad(false);
    set_requires_grad(*G, true);
  }
  optim::release_gradients(*gan.G_optim);
  for (int acc = 0; acc < d.num_G_accumulations; ++acc) {
    const MicroStep micro{MicroStep::Phase::G, 0, acc};
    auto [z, y_fake] = noise(micro, d.G_batch_size);
    z = to_device(z, device, x.scalar_type());
    y_fake = to_device(y_fake, device, y_fake.scalar_type());
    torch::Tensor G_z;
    {
      Autocast autocast(G_bf16);
      G_z = G->forward(z, G->shared(y_fake));
    }
    torch::Tensor D_fake;
    {
      Autocast autocast(D_bf16);
      // Through the augmentation: G's gradient flows back through every transform.
      D_fake = D->forward(augment.fake(G_z.to(x.scalar_type()), micro), y_fake);
    }
    const auto G_loss = -D_fake.to(x.scalar_type()).mean();
    (G_loss / d.num_G_accumulations).backward();
    G_sum += G_loss.detach();
    last_G = G_loss.detach() / d.num_G_accumulations;
  }
  synchronise_gradients(*G, c.optim.G_ortho, G_ortho_skip, collectives);
  G_grad_norm = total_norm(gradients(*G), device);
  optim::adam_step(*gan.G_optim, gan.adam_kernels);
  if (c.optim.toggle_grads) gan.set_D_requires_grad(true);

  // 4. Losses: the original's numbers from this rank's last micro-steps, and the means over
  //    every micro-step and rank; with the gradient norms, one host copy (the iteration's only
  //    wait for the device) and one allreduce.
  const double D_micro = static_cast<double>(t.num_D_steps) * d.num_D_accumulations;
  const torch::Tensor losses = torch::stack({D_real_sum / D_micro, D_fake_sum / D_micro, G_sum / d.num_G_accumulations,
                                             last_D_real, last_D_fake, last_G});
  torch::Tensor numbers = torch::cat({losses.to(torch::kFloat64), torch::stack({D_grad_norm, G_grad_norm})})
                              .to(torch::kCPU)
                              .contiguous();
  torch::Tensor means = numbers.narrow(0, 0, 3).clone();
  collectives.allreduce_(means);
  means.div_(collectives.world_size());
  m.D_loss_real_mean = means[0].item<double>();
  m.D_loss_fake_mean = means[1].item<double>();
  m.G_loss_mean = means[2].item<double>();
  m.D_loss_real = numbers[3].item<double>();
  m.D_loss_fake = numbers[4].item<double>();
  m.G_loss = numbers[5].item<double>();
  m.D_grad_norm = numbers[6].item<double>();
  m.G_grad_norm = numbers[7].item<double>();
  return m;
}

void add_ortho_gradient(torch::nn::Module& net, double strength, const std::vector<torch::Tensor>& skip) {
  torch::NoGradGuard no_grad;
  for (auto& p : net.parameters()) {
    if (p.dim() < 2) continue;
    if (std::any_of(skip.begin(), skip.end(), [&](const torch::Tensor& s) { return s.is_same(p); })) continue;
    const auto W = p.view({p.size(0), -1});
    const auto WWt = torch::mm(W, W.t());
    const auto off_diagonal = 1.0 - torch::eye(W.size(0), W.options());
    const auto grad = 2.0 * torch::mm(WWt * off_diagonal, W);
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().add_(strength * grad.view_as(p));
  }
}

void update_ema(model::Generator& G, model::Generator& G_ema, double decay, std::int64_t itr, std::int64_t ema_start) {
  torch::NoGradGuard no_grad;
  const double rate = itr < ema_start ? 0.0 : decay;
  const model::StateDict sources = model::state_dict(*G);
  // target = target * rate + source * (1 - rate), as utils.ema computes it, also before
  // ema_start (rate 0), in two or three multi-tensor kernels for the floating-point tensors
  // (bit-identical to the per-tensor form on the CPU). A copy per tensor before ema_start cost
  // one GPU launch for each of G's several hundred tensors, every iteration.
  std::vector<torch::Tensor> blended_targets, blended_sources;
  for (const auto& [key, target] : model::state_dict(*G_ema)) {
    const torch::Tensor& source = sources.at(key);
    if (target.is_floating_point()) {
      blended_targets.push_back(target);
      blended_sources.push_back(source);
    } else {
      target.copy_(target * rate + source * (1.0 - rate));
    }
  }
  if (blended_targets.empty()) return;
  at::_foreach_mul_(blended_targets, rate);
  if (rate == 0.0)
    at::_foreach_add_(blended_targets, blended_sources);  // source * 1 is source, bit for bit
  else
    at::_foreach_add_(blended_targets, at::_foreach_mul(blended_sources, 1.0 - rate));
}

void copy_to_ema(model::Generator& G, model::Generator& G_ema) {
  torch::NoGradGuard no_grad;
  const model::StateDict sources = model::state_dict(*G);
  for (const auto& [key, target] : model::state_dict(*G_ema)) target.copy_(sources.at(key));
}

void average_bn_statistics(torch::nn::Module& net, distributed::Collectives& collectives) {
  if (!collectives.communicates()) return;
  std::vector<torch::Tensor> stats;
  for (auto& b : net.named_buffers()) {
    const auto& name = b.key();
    const auto leaf = name.substr(name.rfind('.') + 1);
    if (leaf == "stored_mean" || leaf == "stored_var" || leaf == "running_mean" || leaf == "running_var")
      stats.push_back(b.value());
  }
  average_across_ranks(stats, collectives);
}

}  // namespace biggan::train
