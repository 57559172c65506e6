#include "model/blocks.h"

#include "model/resampling_conv.h"

namespace biggan::model {

namespace F = torch::nn::functional;

namespace {
torch::Tensor upsample2(const torch::Tensor& x) {
  return F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0})
                               .mode(torch::kNearest).recompute_scale_factor(false));
}
torch::Tensor avg_pool2(const torch::Tensor& x) { return F::avg_pool2d(x, F::AvgPool2dFuncOptions(2)); }

// conv(upsample(h)) when `upsample`, else conv(h); fused: at the low resolution.
torch::Tensor upsample_then_conv(const torch::Tensor& h, torch::nn::AnyModule& conv, bool upsample, bool fused) {
  if (!upsample) return conv.forward(h);
  if (!fused) return conv.forward(upsample2(h));
  const ConvParameters c = conv_parameters(conv);
  return upsample_conv3x3(h, c.weight, c.bias);
}

// BigGAN-deep's bottleneck: conv1 1x1 in->hidden, conv2 and conv3 3x3, conv4 1x1 hidden->out.
void make_bottleneck(torch::nn::Module& owner, const LayerFactory& conv, std::int64_t in, std::int64_t hidden,
                     std::int64_t out, torch::nn::AnyModule& conv1, torch::nn::AnyModule& conv2,
                     torch::nn::AnyModule& conv3, torch::nn::AnyModule& conv4) {
  conv1 = conv.conv(in, hidden, 1, 0);
  conv2 = conv.conv(hidden, hidden);
  conv3 = conv.conv(hidden, hidden);
  conv4 = conv.conv(hidden, out, 1, 0);
  owner.register_module("conv1", conv1.ptr());
  owner.register_module("conv2", conv2.ptr());
  owner.register_module("conv3", conv3.ptr());
  owner.register_module("conv4", conv4.ptr());
}
}  // namespace

torch::Tensor activate(const torch::Tensor& x, Activation a) {
  // In-place ReLU saves memory where the input is not needed again (the original's inplace_relu).
  return a == Activation::relu ? torch::relu(x) : x.relu_();
}

AttentionImpl::AttentionImpl(std::int64_t ch_, const LayerFactory& conv) : ch(ch_) {
  theta = conv.conv(ch, ch / 8, 1, 0, false);
  phi = conv.conv(ch, ch / 8, 1, 0, false);
  g = conv.conv(ch, ch / 2, 1, 0, false);
  o = conv.conv(ch / 2, ch, 1, 0, false);
  register_module("theta", theta.ptr());
  register_module("phi", phi.ptr());
  register_module("g", g.ptr());
  register_module("o", o.ptr());
  gamma = register_parameter("gamma", torch::zeros({}));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
  const auto N = x.size(0), H = x.size(2), W = x.size(3);
  // BigGAN-PyTorch's o = g beta^T, as its transpose beta g^T: positions x channels, which is how
  // channels-last activations lie in memory, so no operand is copied. Its way round, the
  // gradient of beta^T arrives transposed and softmax's backward copies it (HW x HW/4 floats per
  // image, 10% of a 128 px step at ch32).
  const torch::Tensor t = theta.forward(x).flatten(2).transpose(1, 2);                   // N, HW, ch/8
  const torch::Tensor p = F::max_pool2d(phi.forward(x), F::MaxPool2dFuncOptions(2)).flatten(2);  // N, ch/8, HW/4
  const torch::Tensor gg = F::max_pool2d(g.forward(x), F::MaxPool2dFuncOptions(2)).flatten(2).transpose(1, 2);
  const torch::Tensor beta = torch::softmax(torch::bmm(t, p), -1);                       // N, HW, HW/4
  const torch::Tensor attended =
      torch::bmm(beta, gg).transpose(1, 2).view({N, ch / 2, H, W}).contiguous(x.suggest_memory_format());
  const torch::Tensor out = o.forward(attended);
  return gamma * out + x;
}

GBlockImpl::GBlockImpl(std::int64_t in, std::int64_t out, const LayerFactory& conv, const CCBNFactory& bn,
                       Activation act_, bool upsample_, bool fused_resampling_)
    : act(act_), upsample(upsample_), learnable_sc(in != out || upsample_), fused_resampling(fused_resampling_) {
  conv1 = conv.conv(in, out);
  conv2 = conv.conv(out, out);
  register_module("conv1", conv1.ptr());
  register_module("conv2", conv2.ptr());
  if (learnable_sc) {
    conv_sc = conv.conv(in, out, 1, 0);
    register_module("conv_sc", conv_sc.ptr());
  }
  bn1 = register_module("bn1", bn.make(in));
  bn2 = register_module("bn2", bn.make(out));
}

torch::Tensor GBlockImpl::forward(const torch::Tensor& x_in, const torch::Tensor& y) {
  torch::Tensor h = upsample_then_conv(activate(bn1->forward(x_in, y), act), conv1, upsample, fused_resampling);
  h = activate(bn2->forward(h, y), act);
  h = conv2.forward(h);
  return h + shortcut(x_in);
}

torch::Tensor GBlockImpl::shortcut(const torch::Tensor& x) {
  // A 1x1 convolution commutes with nearest upsampling; at the low resolution it costs a quarter.
  if (fused_resampling) {
    const torch::Tensor s = learnable_sc ? conv_sc.forward(x) : x;
    return upsample ? upsample2(s) : s;
  }
  const torch::Tensor s = upsample ? upsample2(x) : x;
  return learnable_sc ? conv_sc.forward(s) : s;
}

DBlockImpl::DBlockImpl(std::int64_t in, std::int64_t out, const LayerFactory& conv, bool wide, bool preactivation_,
                       Activation act_, bool downsample_, bool fused_resampling_)
    : act(act_),
      preactivation(preactivation_),
      downsample(downsample_),
      learnable_sc(in != out || downsample_),
      fused_resampling(fused_resampling_) {
  const std::int64_t hidden = wide ? out : in;
  conv1 = conv.conv(in, hidden);
  conv2 = conv.conv(hidden, out);
  register_module("conv1", conv1.ptr());
  register_module("conv2", conv2.ptr());
  if (learnable_sc) {
    conv_sc = conv.conv(in, out, 1, 0);
    register_module("conv_sc", conv_sc.ptr());
  }
}

torch::Tensor DBlockImpl::forward(const torch::Tensor& x) {
  // Out-of-place relu: an in-place one would corrupt x, which the shortcut still needs.
  torch::Tensor h = preactivation ? torch::relu(x) : x;
  h = activate(conv1.forward(h), act);
  if (downsample && fused_resampling) {
    const ConvParameters c2 = conv_parameters(conv2);
    h = conv3x3_avg_pool(h, c2.weight, c2.bias);
  } else {
    h = conv2.forward(h);
    if (downsample) h = avg_pool2(h);
  }
  return h + shortcut(x);
}

torch::Tensor DBlockImpl::shortcut(const torch::Tensor& x) {
  // The original pools after conv_sc in preactivation blocks; the two commute, and pooling first
  // gives the 1x1 convolution a quarter of the pixels.
  if (preactivation && !fused_resampling) {
    const torch::Tensor s = learnable_sc ? conv_sc.forward(x) : x;
    return downsample ? avg_pool2(s) : s;
  }
  const torch::Tensor s = downsample ? avg_pool2(x) : x;
  return learnable_sc ? conv_sc.forward(s) : s;
}

DeepGBlockImpl::DeepGBlockImpl(std::int64_t in_, std::int64_t out_, const LayerFactory& conv, const CCBNFactory& bn,
                               Activation act_, bool upsample_, bool fused_resampling_, int channel_ratio)
    : in(in_), out(out_), act(act_), upsample(upsample_), fused_resampling(fused_resampling_) {
  const std::int64_t hidden = in / channel_ratio;
  make_bottleneck(*this, conv, in, hidden, out, conv1, conv2, conv3, conv4);
  bn1 = register_module("bn1", bn.make(in));
  bn2 = register_module("bn2", bn.make(hidden));
  bn3 = register_module("bn3", bn.make(hidden));
  bn4 = register_module("bn4", bn.make(hidden));
}

torch::Tensor DeepGBlockImpl::forward(const torch::Tensor& x_in, const torch::Tensor& y) {
  torch::Tensor h = conv1.forward(activate(bn1->forward(x_in, y), act));
  h = activate(bn2->forward(h, y), act);
  torch::Tensor x = in != out ? x_in.narrow(1, 0, out) : x_in;
  if (upsample) x = upsample2(x);
  h = upsample_then_conv(h, conv2, upsample, fused_resampling);
  h = conv3.forward(activate(bn3->forward(h, y), act));
  h = conv4.forward(activate(bn4->forward(h, y), act));
  return h + x;
}

DeepDBlockImpl::DeepDBlockImpl(std::int64_t in, std::int64_t out, const LayerFactory& conv, Activation act_,
                               bool downsample_, int channel_ratio)
    : act(act_), downsample(downsample_), learnable_sc(in != out) {
  const std::int64_t hidden = out / channel_ratio;
  make_bottleneck(*this, conv, in, hidden, out, conv1, conv2, conv3, conv4);
  if (learnable_sc) {
    conv_sc = conv.conv(in, out - in, 1, 0);
    register_module("conv_sc", conv_sc.ptr());
  }
}

torch::Tensor DeepDBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = conv1.forward(torch::relu(x));
  h = conv2.forward(activate(h, act));
  h = conv3.forward(activate(h, act));
  h = activate(h, act);
  if (downsample) h = avg_pool2(h);
  h = conv4.forward(h);
  torch::Tensor s = downsample ? avg_pool2(x) : x;
  if (learnable_sc) s = torch::cat({s, conv_sc.forward(s)}, 1);
  return h + s;
}

}  // namespace biggan::model
