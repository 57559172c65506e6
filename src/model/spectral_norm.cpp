#include "model/spectral_norm.h"

#include <c10/core/impl/LocalDispatchKeySet.h>

#include <cmath>
#include <stdexcept>

#include "model/tensor_layout.h"

namespace biggan::model {

namespace F = torch::nn::functional;

namespace {

// x minus its projections onto ys (rows); (y x^T) y / (y y^T) as in layers.py.
torch::Tensor gram_schmidt(torch::Tensor x, const std::vector<torch::Tensor>& ys) {
  for (const auto& y : ys) x = x - torch::mm(y, x.t()) * y / torch::mm(y, y.t());
  return x;
}

// F.normalize(x, eps=eps) on rows: the same kernels without its expand_as, which broadcasting
// makes redundant.
torch::Tensor normalize_rows(const torch::Tensor& x, double eps) { return x / x.norm(2, 1, true).clamp_min(eps); }

// W / sigma laid out in `format`: the same quotients, element for element, as weight / sigma.
torch::Tensor divide(const torch::Tensor& weight, const torch::Tensor& sigma, torch::MemoryFormat format) {
  if (format == torch::MemoryFormat::Contiguous || weight.dim() != 4) return weight / sigma;
  torch::Tensor out = torch::empty_like(weight, weight.options().memory_format(format));
  return torch::div_out(out, weight, sigma);
}

// W / sigma where sigma = u W v^T and u, v are the power iteration's vectors, constants for
// the gradient (as in BigGAN-PyTorch, where they come from under no_grad). The backward is the
// gradient autograd derives for the original's expression, g / sigma + dL/dsigma u^T v with
// dL/dsigma = sum(-g * ((W / sigma) / sigma)), bit for bit: the same operations on the same
// operands (the outer products have one term each, so their order does not matter; a sum of
// negated terms is the negated sum), in one graph node and seven kernels, where autograd walks
// five nodes (division, squeeze, two products, transpose) and launches nine. With some 370 SN
// weights used per BigGAN-deep iteration, such dispatches are what a host-bound GPU step pays for.
struct DivideBySigma : torch::autograd::Function<DivideBySigma> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& weight,
                               const torch::Tensor& sigma, const torch::Tensor& u, const torch::Tensor& v,
                               torch::MemoryFormat format) {
    torch::Tensor out = divide(weight, sigma, format);
    ctx->save_for_backward({out, sigma, u, v});
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &out = saved[0], &sigma = saved[1], &u = saved[2], &v = saved[3];
    const torch::Tensor& g = grads[0];
    const torch::Tensor minus_d_sigma = (g * (out / sigma)).sum();
    const torch::Tensor through_sigma = torch::mm((u * minus_d_sigma).t(), v).view(g.sizes());
    return {(g / sigma).sub_(through_sigma), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

void SpectralNormState::register_buffers(torch::nn::Module& module, std::int64_t num_outputs, const SNOptions& options) {
  options_ = options;
  for (int i = 0; i < options.num_svs; ++i) {
    us_.push_back(module.register_buffer("u" + std::to_string(i), torch::randn({1, num_outputs})));
    svs_.push_back(module.register_buffer("sv" + std::to_string(i), torch::ones({1})));
  }
}

torch::Tensor SpectralNormState::normalized_weight(const torch::Tensor& weight, bool training,
                                                   torch::MemoryFormat format) {
  std::vector<torch::Tensor> us, vs, sigmas;
  {
    torch::NoGradGuard no_grad;
    // In fp32 under bf16 autocast as well: sigma divides the fp32 master weight, and autocast
    // would also cast W anew for each product (a detached W is not in its cache).
    const c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    if (!W_.defined() || W_.data_ptr() != weight.data_ptr()) {
      W_ = weight.detach().view({weight.size(0), -1});
      Wt_ = W_.t();
    }
    const torch::Tensor& W = W_;
    // Out of training u is not written back, so a further iteration would repeat the first.
    const int iterations = training ? options_.num_itrs : 1;
    for (int itr = 0; itr < iterations; ++itr) {
      us.clear();
      vs.clear();
      sigmas.clear();
      for (std::size_t i = 0; i < us_.size(); ++i) {
        vs.push_back(normalize_rows(gram_schmidt(torch::mm(us_[i], W), vs), options_.eps));
        // BigGAN-PyTorch computes v W^T a second time, with the gradient on, for sigma; this is
        // the same product of the same operands, so sigma below is bit for bit its value.
        const torch::Tensor vWt = torch::mm(vs.back(), Wt_);
        us.push_back(normalize_rows(gram_schmidt(vWt, us), options_.eps));
        if (training) us_[i].copy_(us.back());
        sigmas.push_back(torch::mm(vWt, us.back().t()));  // (1, 1): it broadcasts as a scalar
      }
    }
    if (training)
      for (std::size_t i = 0; i < sigmas.size(); ++i) svs_[i].copy_(sigmas[i].view({1}));
  }
  if (!torch::GradMode::is_enabled() || !weight.requires_grad()) return divide(weight, sigmas[0], format);
  return DivideBySigma::apply(weight, sigmas[0], us[0], vs[0], format);
}

void default_init(torch::Tensor& weight, torch::Tensor* bias) {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias && bias->defined()) {
    const auto fan_in = weight.numel() / weight.size(0);
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    bias->uniform_(-bound, bound);
  }
}

SNConv2dImpl::SNConv2dImpl(std::int64_t in, std::int64_t out, int kernel_size, int padding_, bool with_bias,
                           const SNOptions& options)
    : padding(padding_) {
  weight = register_parameter("weight", torch::empty({out, in, kernel_size, kernel_size}));
  if (with_bias) bias = register_parameter("bias", torch::empty({out}));
  default_init(weight, with_bias ? &bias : nullptr);
  sn.register_buffers(*this, out, options);
}

torch::Tensor SNConv2dImpl::normalized_weight(torch::MemoryFormat format) {
  return sn.normalized_weight(weight, is_training(), format);
}

torch::Tensor SNConv2dImpl::forward(const torch::Tensor& x) {
  // An NHWC input makes oneDNN and cuDNN convolve with an NHWC weight: W / sigma written so
  // spares a copy of the weight in the forward and another in the backward, for every 3x3
  // convolution and pass, and the gradient of W / sigma arrives NHWC either way.
  const auto format = is_nhwc(x) ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  return F::conv2d(x, normalized_weight(format), F::Conv2dFuncOptions().bias(bias).padding(padding));
}

SNLinearImpl::SNLinearImpl(std::int64_t in, std::int64_t out, bool with_bias, const SNOptions& options) {
  weight = register_parameter("weight", torch::empty({out, in}));
  if (with_bias) bias = register_parameter("bias", torch::empty({out}));
  default_init(weight, with_bias ? &bias : nullptr);
  sn.register_buffers(*this, out, options);
}

torch::Tensor SNLinearImpl::forward(const torch::Tensor& x) {
  return F::linear(x, sn.normalized_weight(weight, is_training()), bias);
}

SNEmbeddingImpl::SNEmbeddingImpl(std::int64_t num_embeddings, std::int64_t dim, const SNOptions& options) {
  weight = register_parameter("weight", torch::randn({num_embeddings, dim}));
  sn.register_buffers(*this, num_embeddings, options);
}

torch::Tensor SNEmbeddingImpl::forward(const torch::Tensor& indices) {
  return F::embedding(indices, sn.normalized_weight(weight, is_training()));
}

torch::nn::AnyModule LayerFactory::conv(std::int64_t in, std::int64_t out, int kernel_size, int padding,
                                        bool bias) const {
  if (spectral) return torch::nn::AnyModule(SNConv2d(in, out, kernel_size, padding, bias, sn));
  return torch::nn::AnyModule(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel_size).padding(padding).bias(bias)));
}

ConvParameters conv_parameters(const torch::nn::AnyModule& conv) {
  if (auto sn = std::dynamic_pointer_cast<SNConv2dImpl>(conv.ptr())) return {sn->normalized_weight(), sn->bias};
  if (auto plain = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(conv.ptr())) return {plain->weight, plain->bias};
  throw std::logic_error("conv_parameters: not a convolution made by LayerFactory");
}

torch::nn::AnyModule LayerFactory::linear(std::int64_t in, std::int64_t out, bool bias) const {
  if (spectral) return torch::nn::AnyModule(SNLinear(in, out, bias, sn));
  return torch::nn::AnyModule(torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
}

}  // namespace biggan::model
