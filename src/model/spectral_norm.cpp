#include "model/spectral_norm.h"

#include <cmath>
#include <stdexcept>

namespace biggan::model {

namespace F = torch::nn::functional;

namespace {

// x minus its projections onto ys (rows); (y x^T) y / (y y^T) as in layers.py.
torch::Tensor gram_schmidt(torch::Tensor x, const std::vector<torch::Tensor>& ys) {
  for (const auto& y : ys) x = x - torch::mm(y, x.t()) * y / torch::mm(y, y.t());
  return x;
}

torch::Tensor normalize_rows(const torch::Tensor& x, double eps) {
  return F::normalize(x, F::NormalizeFuncOptions().p(2).dim(1).eps(eps));
}

}  // namespace

void SpectralNormState::register_buffers(torch::nn::Module& module, std::int64_t num_outputs, const SNOptions& options) {
  options_ = options;
  for (int i = 0; i < options.num_svs; ++i) {
    us_.push_back(module.register_buffer("u" + std::to_string(i), torch::randn({1, num_outputs})));
    svs_.push_back(module.register_buffer("sv" + std::to_string(i), torch::ones({1})));
  }
}

torch::Tensor SpectralNormState::normalized_weight(const torch::Tensor& weight, bool training) {
  const torch::Tensor W = weight.view({weight.size(0), -1});
  std::vector<torch::Tensor> sigmas;
  for (int itr = 0; itr < options_.num_itrs; ++itr) {
    std::vector<torch::Tensor> us, vs;
    sigmas.clear();
    for (std::size_t i = 0; i < us_.size(); ++i) {
      torch::Tensor u, v;
      {
        torch::NoGradGuard no_grad;
        const torch::Tensor Wd = W.detach();
        v = normalize_rows(gram_schmidt(torch::matmul(us_[i], Wd), vs), options_.eps);
        vs.push_back(v);
        u = normalize_rows(gram_schmidt(torch::matmul(v, Wd.t()), us), options_.eps);
        us.push_back(u);
        if (training) us_[i].copy_(u);
      }
      // Outside no_grad: the gradient flows through sigma into W (u and v are constants).
      sigmas.push_back(torch::matmul(torch::matmul(v, W.t()), u.t()).squeeze());
    }
  }
  if (training) {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < sigmas.size(); ++i) svs_[i].copy_(sigmas[i].detach().reshape({1}));
  }
  return weight / sigmas[0];
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

torch::Tensor SNConv2dImpl::normalized_weight() { return sn.normalized_weight(weight, is_training()); }

torch::Tensor SNConv2dImpl::forward(const torch::Tensor& x) {
  return F::conv2d(x, normalized_weight(), F::Conv2dFuncOptions().bias(bias).padding(padding));
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
