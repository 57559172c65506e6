#include "model/batch_norm.h"

#include "core/error.h"

namespace biggan::model {

namespace F = torch::nn::functional;

namespace {
// A buffer-only child module, so that its buffers appear as `bn.<name>` like the original's
// myBN / SynchronizedBatchNorm2d children.
struct StatsHolder : torch::nn::Module {};

int group_count(std::int64_t channels) {
  // layers.groupnorm with plain 'gn' uses 16 groups; fall back to a divisor for odd widths.
  for (int g = 16; g > 1; --g)
    if (channels % g == 0) return g;
  return 1;
}
}  // namespace

NormKind norm_kind(NormStyle norm_style, bool mybn, bool cross_replica) {
  if (cross_replica) return NormKind::cross_replica;
  if (mybn) return NormKind::mybn;
  switch (norm_style) {
    case NormStyle::bn: return NormKind::bn;
    case NormStyle::in: return NormKind::in;
    case NormStyle::gn: return NormKind::gn;
    case NormStyle::nonorm: return NormKind::nonorm;
  }
  throw Error("norm_kind: invalid NormStyle " + std::to_string(static_cast<int>(norm_style)));
}

Normalizer::Normalizer(torch::nn::Module& owner, NormKind kind, std::int64_t channels, double eps, double momentum)
    : kind_(kind), eps_(eps), momentum_(momentum) {
  switch (kind) {
    case NormKind::bn:
    case NormKind::in:
      mean_ = owner.register_buffer("stored_mean", torch::zeros({channels}));
      var_ = owner.register_buffer("stored_var", torch::ones({channels}));
      break;
    case NormKind::mybn:
      child_ = owner.register_module("bn", std::make_shared<StatsHolder>());
      mean_ = child_->register_buffer("stored_mean", torch::zeros({channels}));
      var_ = child_->register_buffer("stored_var", torch::ones({channels}));
      counter_ = child_->register_buffer("accumulation_counter", torch::zeros({1}));
      break;
    case NormKind::cross_replica:
      child_ = owner.register_module("bn", std::make_shared<StatsHolder>());
      mean_ = child_->register_buffer("running_mean", torch::zeros({channels}));
      var_ = child_->register_buffer("running_var", torch::ones({channels}));
      num_batches_tracked_ = child_->register_buffer("num_batches_tracked", torch::zeros({}, torch::kInt64));
      break;
    case NormKind::gn:
    case NormKind::nonorm:
      break;
  }
}

torch::Tensor Normalizer::batch_norm_train(const torch::Tensor& x, torch::Tensor& mean_buf, torch::Tensor& var_buf,
                                           bool unbiased_running_var) {
  // Statistics from per-channel sum, sum of squares and count, so that the cross-replica
  // reducer can add them up over ranks (one allreduce of 2C+1 numbers).
  // Statistics in float32 at least (bf16/fp16 activations), float64 kept as is.
  const torch::Tensor xf = x.to(at::promote_types(x.scalar_type(), torch::kFloat));
  const auto count_local = static_cast<double>(x.numel() / x.size(1));
  torch::Tensor stats = torch::cat({xf.sum({0, 2, 3}), (xf * xf).sum({0, 2, 3}),
                                    torch::full({1}, count_local, xf.options())});
  if (reducer_) stats = reducer_(stats);
  const std::int64_t C = x.size(1);
  const torch::Tensor count = stats.narrow(0, 2 * C, 1);
  const torch::Tensor mean = stats.narrow(0, 0, C) / count;
  const torch::Tensor var = (stats.narrow(0, C, C) / count - mean * mean).clamp_min(0);  // biased
  {
    torch::NoGradGuard no_grad;
    // Unbiased n/(n-1) as a tensor op: no item() (a device sync on GPU) in the training step.
    const torch::Tensor n = count.detach();
    const torch::Tensor running_var =
        unbiased_running_var ? var.detach() * torch::where(n > 1, n / (n - 1).clamp_min(1), torch::ones_like(n))
                             : var.detach();
    if (accumulating_) {
      mean_buf.add_(mean.detach());
      var_buf.add_(running_var);
    } else {
      mean_buf.mul_(1 - momentum_).add_(mean.detach() * momentum_);
      var_buf.mul_(1 - momentum_).add_(running_var * momentum_);
    }
  }
  const torch::Tensor scale = torch::rsqrt(var + eps_);
  return ((xf - mean.view({1, -1, 1, 1})) * scale.view({1, -1, 1, 1})).to(x.scalar_type());
}

torch::Tensor Normalizer::forward(const torch::Tensor& x, const torch::Tensor& gain, const torch::Tensor& bias,
                                  bool training) {
  switch (kind_) {
    case NormKind::bn: {
      if (training && accumulating_) {
        ++accumulated_;
        return batch_norm_train(x, mean_, var_, /*unbiased_running_var=*/true) * gain + bias;
      }
      // F.batch_norm exactly as the original: momentum 0.1, unbiased running variance.
      return F::batch_norm(x, mean_, var_, F::BatchNormFuncOptions().training(training).momentum(momentum_).eps(eps_)) *
                 gain +
             bias;
    }
    case NormKind::in: {
      const bool accumulate = training && accumulating_;
      if (accumulate) {
        // Exact standing stats: sum the per-batch means of the per-instance statistics (what
        // instance_norm's running update averages), divided by the count in end_standing().
        ++accumulated_;
        torch::NoGradGuard no_grad;
        const auto hw = static_cast<double>(x.size(2) * x.size(3));
        mean_.add_(x.mean({2, 3}).mean(0));
        var_.add_(x.var({2, 3}, /*unbiased=*/false).mean(0) * (hw > 1 ? hw / (hw - 1) : 1.0));
      }
      // While accumulating, the running buffers are left to the sums above.
      const torch::Tensor out = torch::instance_norm(x, {}, {}, accumulate ? torch::Tensor() : mean_,
                                                     accumulate ? torch::Tensor() : var_, training, momentum_, eps_,
                                                     false);
      return out * gain + bias;
    }
    case NormKind::gn:
      return F::group_norm(x, F::GroupNormFuncOptions(group_count(x.size(1))).eps(eps_)) * gain + bias;
    case NormKind::nonorm:
      return x * gain + bias;
    case NormKind::mybn: {
      if (training) {
        // manual_bn: fp32 mean and biased var as E[x^2] - E[x]^2, fused scale/shift.
        const torch::Tensor xf = x.to(torch::kFloat);
        const torch::Tensor m = xf.mean({0, 2, 3}, true);
        const torch::Tensor var = ((xf * xf).mean({0, 2, 3}, true) - m * m).to(x.scalar_type());
        const torch::Tensor mean = m.to(x.scalar_type());
        {
          torch::NoGradGuard no_grad;
          if (accumulating_) {
            mean_.add_(mean.squeeze().detach());
            var_.add_(var.squeeze().detach());
            counter_.add_(1.0);
          } else {
            mean_.copy_(mean_ * (1 - momentum_) + mean.squeeze().detach() * momentum_);
            var_.copy_(var_ * (1 - momentum_) + var.squeeze().detach() * momentum_);
          }
        }
        const torch::Tensor scale = torch::rsqrt(var + eps_) * gain;
        const torch::Tensor shift = mean * scale - bias;
        return x * scale - shift;
      }
      torch::Tensor mean = mean_.view({1, -1, 1, 1});
      torch::Tensor var = var_.view({1, -1, 1, 1});
      if (accumulating_) {
        mean = mean / counter_;
        var = var / counter_;
      }
      const torch::Tensor scale = torch::rsqrt(var + eps_) * gain;
      return x * scale - (mean * scale - bias);
    }
    case NormKind::cross_replica: {
      if (training) {
        if (accumulating_) ++accumulated_;
        {
          torch::NoGradGuard no_grad;
          num_batches_tracked_.add_(1);
        }
        return batch_norm_train(x, mean_, var_, /*unbiased_running_var=*/true) * gain + bias;
      }
      return F::batch_norm(x, mean_, var_, F::BatchNormFuncOptions().training(false).eps(eps_)) * gain + bias;
    }
  }
  throw Error("unreachable norm kind");
}

void Normalizer::begin_standing() {
  if (!mean_.defined()) return;  // gn / nonorm: nothing to accumulate
  torch::NoGradGuard no_grad;
  mean_.zero_();
  var_.zero_();
  if (counter_.defined()) counter_.zero_();
  accumulating_ = true;
  accumulated_ = 0;
}

void Normalizer::end_standing() {
  if (!accumulating_) return;
  torch::NoGradGuard no_grad;
  if (kind_ == NormKind::mybn) {
    // Stored as sums + counter, as the original; make them plain means so eval needs no flag.
    if (counter_.item<double>() > 0) {
      mean_.div_(counter_);
      var_.div_(counter_);
    }
    counter_.zero_();
  } else if (accumulated_ > 0) {
    mean_.div_(static_cast<double>(accumulated_));
    var_.div_(static_cast<double>(accumulated_));
  }
  accumulating_ = false;
  accumulated_ = 0;
}

CCBNImpl::CCBNImpl(std::int64_t channels, std::int64_t input_size, bool shared_conditioning,
                   const LayerFactory& linear, NormKind kind, double eps) {
  if (shared_conditioning) {
    gain = linear.linear(input_size, channels, /*bias=*/false);
    bias = linear.linear(input_size, channels, /*bias=*/false);
  } else {
    // Per-layer class embeddings (n_classes x C), never spectrally normalised in G.
    gain = torch::nn::AnyModule(torch::nn::Embedding(input_size, channels));
    bias = torch::nn::AnyModule(torch::nn::Embedding(input_size, channels));
  }
  register_module("gain", gain.ptr());
  register_module("bias", bias.ptr());
  norm = std::make_unique<Normalizer>(*this, kind, channels, eps, 0.1);
}

torch::Tensor CCBNImpl::forward(const torch::Tensor& x, const torch::Tensor& y) {
  const torch::Tensor g = (1 + gain.forward(y)).view({y.size(0), -1, 1, 1});
  const torch::Tensor b = bias.forward(y).view({y.size(0), -1, 1, 1});
  return norm->forward(x, g, b, is_training());
}

OutputBNImpl::OutputBNImpl(std::int64_t channels, NormKind kind, double eps) {
  gain = register_parameter("gain", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
  // The output layer only knows bn / mybn / cross_replica; in, gn and nonorm apply to ccbn.
  const NormKind own = (kind == NormKind::mybn || kind == NormKind::cross_replica) ? kind : NormKind::bn;
  norm = std::make_unique<Normalizer>(*this, own, channels, eps, 0.1);
}

torch::Tensor OutputBNImpl::forward(const torch::Tensor& x) {
  return norm->forward(x, gain.view({1, -1, 1, 1}), bias.view({1, -1, 1, 1}), is_training());
}

}  // namespace biggan::model
