// Spectrally normalised layers (BigGAN-PyTorch layers.py: SN, SNConv2d, SNLinear, SNEmbedding).
// N = batch, C = channels, H,W = spatial, Z = dim_z, K = n_classes.
//
// Each layer keeps buffers u0, sv0, u1, sv1, ... (num_svs tracked vectors, Gram-Schmidt
// orthogonalised), runs num_itrs power iterations per forward and divides the weight by the top
// singular value. u and sv are written only in training mode; in eval mode sigma is recomputed
// from the stored u without storing anything. Sigma stays differentiable with respect to W.
#pragma once

#include <torch/torch.h>

#include "model/options.h"

#include <vector>

namespace biggan::model {

// The power-iteration state shared by the three SN layers; owns nothing, the buffers live on
// the module that calls register_buffers().
class SpectralNormState {
 public:
  void register_buffers(torch::nn::Module& module, std::int64_t num_outputs, const SNOptions& options);
  // weight / sigma_0, updating u and sv when `training`; a 4-d result laid out in `format`
  // (the values do not depend on it).
  torch::Tensor normalized_weight(const torch::Tensor& weight, bool training,
                                  torch::MemoryFormat format = torch::MemoryFormat::Contiguous);
  const std::vector<torch::Tensor>& singular_values() const { return svs_; }

 private:
  SNOptions options_;
  std::vector<torch::Tensor> us_;
  std::vector<torch::Tensor> svs_;
  // W as a matrix and its transpose, as the power iteration reads them: views of the weight's
  // storage, so they see every in-place update, made again when the storage changes (a move to
  // another device or dtype, a clone). Made once, they spare each forward a detach, a view and a
  // transpose.
  torch::Tensor W_, Wt_;
};

struct SNConv2dImpl : torch::nn::Module {
  SNConv2dImpl(std::int64_t in, std::int64_t out, int kernel_size, int padding, bool bias, const SNOptions& sn);
  torch::Tensor forward(const torch::Tensor& x);
  // weight / sigma, advancing the power iteration in training exactly as forward() does.
  torch::Tensor normalized_weight(torch::MemoryFormat format = torch::MemoryFormat::Contiguous);
  torch::Tensor weight, bias;
  int padding;
  SpectralNormState sn;
};
TORCH_MODULE(SNConv2d);

struct SNLinearImpl : torch::nn::Module {
  SNLinearImpl(std::int64_t in, std::int64_t out, bool bias, const SNOptions& sn);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
  SpectralNormState sn;
};
TORCH_MODULE(SNLinear);

struct SNEmbeddingImpl : torch::nn::Module {
  SNEmbeddingImpl(std::int64_t num_embeddings, std::int64_t dim, const SNOptions& sn);
  torch::Tensor forward(const torch::Tensor& indices);
  torch::Tensor weight;
  SpectralNormState sn;
};
TORCH_MODULE(SNEmbedding);

// Convolution / linear layer factories that produce SN or plain layers (G_param), as the
// original's functools.partial `which_conv` / `which_linear`. Returned as AnyModule so blocks
// can hold either and register it under the original's name.
struct LayerFactory {
  bool spectral = true;
  SNOptions sn;
  torch::nn::AnyModule conv(std::int64_t in, std::int64_t out, int kernel_size = 3, int padding = 1,
                            bool bias = true) const;
  torch::nn::AnyModule linear(std::int64_t in, std::int64_t out, bool bias = true) const;
};

// The weight and bias that a convolution made by LayerFactory applies in this forward pass, for
// callers that convolve with a transformed kernel (model/resampling_conv.h). An SN layer's weight
// is W / sigma and fetching it counts as the layer's forward (u advances in training).
struct ConvParameters {
  torch::Tensor weight, bias;
};
ConvParameters conv_parameters(const torch::nn::AnyModule& conv);

// PyTorch's default parameter init for conv/linear (kaiming_uniform(a=sqrt(5)) weights, uniform
// biases in +-1/sqrt(fan_in)); BigGAN re-initialises weights but keeps these biases.
void default_init(torch::Tensor& weight, torch::Tensor* bias);

}  // namespace biggan::model
