// Residual blocks and self-attention (BigGAN-PyTorch layers.py GBlock, DBlock, Attention;
// BigGANdeep.py GBlock, DBlock). Child names equal the original's, so state_dict keys match.
#pragma once

#include <torch/torch.h>

#include "model/batch_norm.h"
#include "model/options.h"
#include "model/spectral_norm.h"

namespace biggan::model {

torch::Tensor activate(const torch::Tensor& x, Activation a);

// Builds the ccbn of a block with the generator's conditioning settings.
struct CCBNFactory {
  std::int64_t input_size = 0;  // shared_dim (+ z chunk) when shared, else n_classes
  bool shared = false;
  LayerFactory linear;
  NormKind kind = NormKind::bn;
  double eps = 1e-5;
  CCBN make(std::int64_t channels) const { return CCBN(channels, input_size, shared, linear, kind, eps); }
};

// SA-GAN self-attention: theta/phi ch/8, g ch/2, o back to ch; gamma starts at 0.
struct AttentionImpl : torch::nn::Module {
  AttentionImpl(std::int64_t ch, const LayerFactory& conv);
  torch::Tensor forward(const torch::Tensor& x);
  std::int64_t ch;
  torch::Tensor gamma;
  torch::nn::AnyModule theta, phi, g, o;
};
TORCH_MODULE(Attention);

// BigGAN G block: bn1-act-upsample-conv1-bn2-act-conv2, shortcut upsample then conv_sc.
// fused_resampling: upsample-conv1 as one low-resolution convolution (model/resampling_conv.h)
// and conv_sc before the upsampling.
struct GBlockImpl : torch::nn::Module {
  GBlockImpl(std::int64_t in, std::int64_t out, const LayerFactory& conv, const CCBNFactory& bn, Activation act,
             bool upsample, bool fused_resampling);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& y);
  torch::nn::AnyModule conv1, conv2, conv_sc;
  CCBN bn1{nullptr}, bn2{nullptr};
  Activation act;
  bool upsample, learnable_sc, fused_resampling;

 private:
  torch::Tensor shortcut(const torch::Tensor& x);
};
TORCH_MODULE(GBlock);

// BigGAN D block; `wide` picks hidden = out (BigGAN) or in (SN-GAN's thin D).
// fused_resampling: conv2-pool as one stride-2 convolution, and the shortcut pools before conv_sc.
struct DBlockImpl : torch::nn::Module {
  DBlockImpl(std::int64_t in, std::int64_t out, const LayerFactory& conv, bool wide, bool preactivation,
             Activation act, bool downsample, bool fused_resampling);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::AnyModule conv1, conv2, conv_sc;
  Activation act;
  bool preactivation, downsample, learnable_sc, fused_resampling;

 private:
  torch::Tensor shortcut(const torch::Tensor& x);
};
TORCH_MODULE(DBlock);

// BigGAN-deep G block: 1x1 down to in/4, two 3x3, 1x1 up; channel-dropping shortcut.
// fused_resampling: upsample-conv2 as one low-resolution convolution. (BigGAN-deep's D block has
// an activation between its last 3x3 convolution and the pooling, so nothing there fuses.)
struct DeepGBlockImpl : torch::nn::Module {
  DeepGBlockImpl(std::int64_t in, std::int64_t out, const LayerFactory& conv, const CCBNFactory& bn, Activation act,
                 bool upsample, bool fused_resampling, int channel_ratio = 4);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& y);
  torch::nn::AnyModule conv1, conv2, conv3, conv4;
  CCBN bn1{nullptr}, bn2{nullptr}, bn3{nullptr}, bn4{nullptr};
  std::int64_t in, out;
  Activation act;
  bool upsample, fused_resampling;
};
TORCH_MODULE(DeepGBlock);

// BigGAN-deep D block: hidden = out/4; shortcut pools, then concatenates conv_sc(x) when growing.
struct DeepDBlockImpl : torch::nn::Module {
  DeepDBlockImpl(std::int64_t in, std::int64_t out, const LayerFactory& conv, Activation act, bool downsample,
                 int channel_ratio = 4);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::AnyModule conv1, conv2, conv3, conv4, conv_sc;
  Activation act;
  bool downsample, learnable_sc;
};
TORCH_MODULE(DeepDBlock);

}  // namespace biggan::model
