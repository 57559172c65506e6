// Layer-level behaviour: SN power iteration, exact standing statistics, every norm_style,
// strict/lenient weight loading, and errors for unknown options.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <functional>
#include <iostream>
#include <limits>
#include <map>

#include "core/error.h"
#include "../operator_calls.h"
#include "fixture_support.h"
#include "model/architecture.h"
#include "model/batch_norm.h"
#include "model/networks.h"
#include "model/spectral_norm.h"
#include "model/state_dict.h"

namespace biggan::model {
namespace {

TEST(SpectralNorm, PowerIterationConvergesToTopSingularValue) {
  torch::manual_seed(0);
  SNConv2d conv(8, 16, 3, 1, true, SNOptions{1, 1, 1e-12});
  conv->train();
  const auto x = torch::randn({1, 8, 5, 5});
  for (int i = 0; i < 200; ++i) conv->forward(x);
  const double truth = torch::linalg::svdvals(conv->weight.detach().view({16, -1}), c10::nullopt)[0].item<double>();
  EXPECT_NEAR(conv->sn.singular_values()[0].item<double>() / truth, 1.0, 1e-5);
}

TEST(SpectralNorm, SecondVectorTracksSecondSingularValue) {
  torch::manual_seed(1);
  SNLinear lin(30, 12, true, SNOptions{2, 1, 1e-12});
  lin->train();
  const auto x = torch::randn({2, 30});
  for (int i = 0; i < 300; ++i) lin->forward(x);
  const auto s = torch::linalg::svdvals(lin->weight.detach(), c10::nullopt);
  // Relative to each singular value: the second converges at the rate (s2/s3)^iterations, slower.
  EXPECT_NEAR(lin->sn.singular_values()[0].item<double>() / s[0].item<double>(), 1.0, 1e-4);
  EXPECT_NEAR(lin->sn.singular_values()[1].item<double>() / s[1].item<double>(), 1.0, 1e-3);
}

TEST(SpectralNorm, EvalModeStoresNothingAndNormalisedWeightHasUnitNorm) {
  torch::manual_seed(2);
  SNLinear lin(20, 10, false, SNOptions{1, 1, 1e-12});
  lin->train();
  for (int i = 0; i < 100; ++i) lin->forward(torch::randn({1, 20}));
  lin->eval();
  const auto u_before = lin->named_buffers()["u0"].clone();
  const auto W = lin->sn.normalized_weight(lin->weight, false);
  EXPECT_TRUE(torch::equal(u_before, lin->named_buffers()["u0"]));
  EXPECT_NEAR(torch::linalg::svdvals(W.detach(), c10::nullopt)[0].item<double>(), 1.0, 1e-4);
}

TEST(SpectralNorm, EmbeddingTracksPerClass) {
  SNEmbedding e(7, 5, SNOptions{});
  EXPECT_EQ(e->named_buffers()["u0"].sizes(), (std::vector<int64_t>{1, 7}));
}

// BigGAN-PyTorch's SN.W_ with power_iteration, as layers.py writes it, on autograd: the
// reference for the closed-form gradient of SpectralNormState.
struct OriginalSN {
  torch::Tensor weight_over_sigma;
  std::vector<torch::Tensor> us, svs;
};

OriginalSN original_sn(const torch::Tensor& weight, std::vector<torch::Tensor> u_buffers, int num_itrs, double eps,
                       bool update) {
  namespace F = torch::nn::functional;
  const auto normalize = [eps](const torch::Tensor& x) { return F::normalize(x, F::NormalizeFuncOptions().eps(eps)); };
  const auto gram_schmidt = [](torch::Tensor x, const std::vector<torch::Tensor>& ys) {
    for (const auto& y : ys) x = x - torch::mm(y, x.t()) * y / torch::mm(y, y.t());
    return x;
  };
  const torch::Tensor W = weight.view({weight.size(0), -1});
  std::vector<torch::Tensor> svs;
  for (int itr = 0; itr < num_itrs; ++itr) {
    std::vector<torch::Tensor> us, vs;
    svs.clear();
    for (auto& u_buffer : u_buffers) {
      torch::Tensor u, v;
      {
        torch::NoGradGuard no_grad;
        v = normalize(gram_schmidt(torch::matmul(u_buffer, W), vs));
        vs.push_back(v);
        u = normalize(gram_schmidt(torch::matmul(v, W.t()), us));
        us.push_back(u);
        if (update) u_buffer = u;
      }
      svs.push_back(torch::squeeze(torch::matmul(torch::matmul(v, W.t()), u.t())));
    }
  }
  return {weight / svs[0], u_buffers, svs};
}

std::vector<torch::Tensor> buffers_named(const torch::nn::Module& layer, const std::string& prefix, int count) {
  std::vector<torch::Tensor> out;
  for (int i = 0; i < count; ++i) out.push_back(layer.named_buffers()[prefix + std::to_string(i)].clone());
  return out;
}

// The gradient an upstream gradient g gives W, through the layer's normalized weight.
torch::Tensor weight_gradient(const torch::Tensor& weight, const torch::Tensor& weight_over_sigma, const torch::Tensor& g) {
  return torch::autograd::grad({weight_over_sigma}, {weight}, {g})[0];
}

// One SN layer of each kind, with what the test needs of it.
struct SNLayer {
  std::shared_ptr<torch::nn::Module> module;
  torch::Tensor weight;
  SpectralNormState* sn;
};

TEST(SpectralNorm, ValuesAndGradientAreTheOriginalsBitForBit) {
  // Conv, linear and embedding weights; one vector and one iteration (BigGAN's), and the general
  // path with two of each. The upstream gradient leans on W / sigma so that the part flowing
  // through sigma is a sizeable share of the whole, not a rounding-sized one.
  struct Case {
    std::string name;
    std::function<SNLayer(const SNOptions&)> make;
    int num_svs, num_itrs;
  };
  const auto conv = [](const SNOptions& o) {
    SNConv2d m(12, 20, 3, 1, true, o);
    return SNLayer{m.ptr(), m->weight, &m->sn};
  };
  const std::vector<Case> cases{
      {"conv", conv, 1, 1},
      {"linear", [](const SNOptions& o) { SNLinear m(40, 24, true, o); return SNLayer{m.ptr(), m->weight, &m->sn}; }, 1, 1},
      {"embedding", [](const SNOptions& o) { SNEmbedding m(10, 32, o); return SNLayer{m.ptr(), m->weight, &m->sn}; }, 1, 1},
      {"conv, 2 vectors, 2 iterations", conv, 2, 2},
  };
  double smallest_sigma_share = std::numeric_limits<double>::infinity();
  for (const auto& c : cases) {
    for (const bool training : {true, false}) {
      torch::manual_seed(7);
      const SNLayer layer = c.make(SNOptions{c.num_svs, c.num_itrs, 1e-6});
      layer.module->train(training);
      const auto us_before = buffers_named(*layer.module, "u", c.num_svs);
      const auto original = original_sn(layer.weight, us_before, c.num_itrs, 1e-6, training);

      const torch::Tensor ours = layer.sn->normalized_weight(layer.weight, training);
      const std::string where = c.name + (training ? ", training" : ", eval");
      EXPECT_TRUE(torch::equal(ours, original.weight_over_sigma)) << where;
      const auto us_after = buffers_named(*layer.module, "u", c.num_svs);
      const auto svs_after = buffers_named(*layer.module, "sv", c.num_svs);
      for (int i = 0; i < c.num_svs; ++i) {
        EXPECT_TRUE(torch::equal(us_after[i], training ? original.us[i] : us_before[i])) << where << ", u" << i;
        if (training) {
          EXPECT_TRUE(torch::equal(svs_after[i], original.svs[i].detach().reshape({1}))) << where << ", sv" << i;
        }
      }

      const torch::Tensor g = torch::randn(layer.weight.sizes()) + 50 * original.weight_over_sigma.detach();
      const torch::Tensor expected = weight_gradient(layer.weight, original.weight_over_sigma, g);
      const double sigma_share = testing::relative_error(g / original.svs[0].detach(), expected);
      smallest_sigma_share = std::min(smallest_sigma_share, sigma_share);
      ASSERT_GT(sigma_share, 0.2) << where << ": the part of the gradient through sigma must matter";
      EXPECT_TRUE(torch::equal(weight_gradient(layer.weight, ours, g), expected)) << where;
    }
  }
  std::cout << "the part of the gradient through sigma: at least " << smallest_sigma_share << " of it\n";
}

// The power iteration reads W through views kept from one forward to the next: an in-place update
// (Adam's step, a checkpoint load) must reach them, and a weight moved to new storage (another
// dtype or device) must replace them. Each forward is checked against the original's expression
// on the weight as it is then.
TEST(SpectralNorm, FollowsTheWeightThroughInPlaceUpdatesAndMoves) {
  torch::manual_seed(13);
  SNConv2d conv(6, 10, 3, 1, true, SNOptions{1, 1, 1e-6});
  conv->train();
  const auto expect_original = [&](const std::string& when) {
    const auto u_before = buffers_named(*conv, "u", 1);
    const auto original = original_sn(conv->weight.detach(), u_before, 1, 1e-6, true);
    const torch::Tensor ours = conv->normalized_weight();
    EXPECT_EQ(ours.scalar_type(), conv->weight.scalar_type()) << when;
    EXPECT_TRUE(torch::equal(ours.detach(), original.weight_over_sigma)) << when;
    EXPECT_TRUE(torch::equal(buffers_named(*conv, "sv", 1)[0], original.svs[0].reshape({1}))) << when;
  };
  expect_original("first forward");
  {
    torch::NoGradGuard no_grad;
    conv->weight.mul_(-3).add_(0.25);
  }
  expect_original("after an in-place update");
  conv->to(torch::kDouble);
  expect_original("after a move to float64");
  {
    torch::NoGradGuard no_grad;
    conv->weight.copy_(torch::randn_like(conv->weight));
  }
  expect_original("after a copy into the weight");
}

TEST(SpectralNorm, TheWeightReachesItsNormalizedFormThroughOneGraphNode) {
  // The launch count this saves is what bench/README measures; here, the structure: W / sigma's
  // node leads straight to W's gradient accumulator, with no division, product or squeeze nodes
  // in between, and only when W needs a gradient.
  SNConv2d conv(8, 16, 3, 1, true, SNOptions{1, 1, 1e-6});
  conv->train();
  const torch::Tensor out = conv->normalized_weight();
  ASSERT_TRUE(out.grad_fn());
  const auto& edges = out.grad_fn()->next_edges();
  std::vector<std::string> next;
  for (const auto& edge : edges)
    if (edge.is_valid()) next.push_back(edge.function->name());
  EXPECT_EQ(next, (std::vector<std::string>{"torch::autograd::AccumulateGrad"})) << out.grad_fn()->name();
  conv->weight.set_requires_grad(false);
  EXPECT_FALSE(conv->normalized_weight().grad_fn());
  conv->weight.set_requires_grad(true);
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(conv->normalized_weight().grad_fn());
}

// An NHWC convolution: oneDNN and cuDNN convolve with an NHWC weight, so W / sigma is written
// NHWC and neither the forward nor the backward copies the weight into that layout. Nothing
// else changes: outputs, gradients and the SN state equal those of the NCHW weight bit for bit.
TEST(SpectralNorm, AnNhwcConvolutionGetsItsWeightNhwcAndTheSameNumbers) {
  struct Pass {
    torch::Tensor out, x_grad, weight_grad, bias_grad, u, sv;
    std::map<std::string, int> calls;
  };
  const auto pass = [](bool nhwc_weight) {
    torch::manual_seed(11);
    SNConv2d conv(16, 24, 3, 1, true, SNOptions{1, 1, 1e-6});
    conv->train();
    const torch::Tensor x =
        torch::randn({2, 16, 6, 6}).contiguous(torch::MemoryFormat::ChannelsLast).set_requires_grad(true);
    const torch::Tensor g = torch::randn({2, 24, 6, 6}).contiguous(torch::MemoryFormat::ChannelsLast);
    Pass p;
    p.calls = testing::calls_by_caller([&] {
      // The NCHW weight is the layer's former forward, kept here as the reference.
      p.out = nhwc_weight ? conv->forward(x)
                          : torch::nn::functional::conv2d(
                                x, conv->normalized_weight(torch::MemoryFormat::Contiguous),
                                torch::nn::functional::Conv2dFuncOptions().bias(conv->bias).padding(1));
      p.out.backward(g);
    });
    p.x_grad = x.grad();
    p.weight_grad = conv->weight.grad();
    p.bias_grad = conv->bias.grad();
    p.u = conv->named_buffers()["u0"].clone();
    p.sv = conv->named_buffers()["sv0"].clone();
    return p;
  };
  const Pass nhwc = pass(true), nchw = pass(false);
  EXPECT_TRUE(torch::equal(nhwc.out, nchw.out));
  EXPECT_TRUE(torch::equal(nhwc.x_grad, nchw.x_grad));
  EXPECT_TRUE(torch::equal(nhwc.weight_grad, nchw.weight_grad));
  EXPECT_TRUE(torch::equal(nhwc.bias_grad, nchw.bias_grad));
  EXPECT_TRUE(torch::equal(nhwc.u, nchw.u));
  EXPECT_TRUE(torch::equal(nhwc.sv, nchw.sv));
  const auto weight_copies = [](const Pass& p) {
    return testing::calls_of(p.calls, "aten::contiguous <- aten::_convolution") +
           testing::calls_of(p.calls, "aten::contiguous <- aten::convolution_backward");
  };
  // The reference shows that the count sees the copies it is meant to find.
  EXPECT_GT(weight_copies(nchw), 0) << "no weight copy to find: the count proves nothing";
  EXPECT_EQ(weight_copies(nhwc), 0);

  torch::manual_seed(12);
  SNConv2d conv(4, 6, 3, 1, true, SNOptions{1, 1, 1e-6});
  const torch::Tensor weight = conv->normalized_weight(torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(weight.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_FALSE(weight.is_contiguous());
  EXPECT_TRUE(conv->normalized_weight().is_contiguous());
}

TEST(SpectralNorm, RunsInFp32UnderBf16Autocast) {
  // Under autocast the products of the power iteration would run in bf16 and the divisor of the
  // fp32 master weight would carry bf16's 3 digits; CPU autocast casts the same products as CUDA's.
  torch::manual_seed(3);
  SNConv2d plain(16, 32, 3, 1, true, SNOptions{1, 1, 1e-6});
  torch::manual_seed(3);
  SNConv2d cast(16, 32, 3, 1, true, SNOptions{1, 1, 1e-6});
  const torch::Tensor expected = plain->normalized_weight();
#if TORCH_VERSION_MAJOR >= 2  // the per-device calls, as src/train/gan_step.cpp
  const bool was_enabled = at::autocast::is_autocast_enabled(at::kCPU);
  const auto was_dtype = at::autocast::get_autocast_dtype(at::kCPU);
  const auto set_autocast = [](bool on, at::ScalarType type) {
    at::autocast::set_autocast_enabled(at::kCPU, on);
    at::autocast::set_autocast_dtype(at::kCPU, type);
  };
#else
  const bool was_enabled = at::autocast::is_cpu_enabled();
  const auto was_dtype = at::autocast::get_autocast_cpu_dtype();
  const auto set_autocast = [](bool on, at::ScalarType type) {
    at::autocast::set_cpu_enabled(on);
    at::autocast::set_autocast_cpu_dtype(type);
  };
#endif
  set_autocast(true, at::kBFloat16);
  // A product too small for oneDNN's bf16 kernels, which a CPU held to AVX2 by ONEDNN_MAX_CPU_ISA
  // refuses, while LibTorch still thinks it has them.
  const auto product_type = torch::mm(torch::ones({2, 2}), torch::ones({2, 2})).scalar_type();
  const torch::Tensor under_autocast = cast->normalized_weight();
  set_autocast(was_enabled, was_dtype);
  at::autocast::clear_cache();
  ASSERT_EQ(product_type, at::kBFloat16) << "autocast was not on: the test would prove nothing";
  EXPECT_EQ(under_autocast.scalar_type(), at::kFloat);
  EXPECT_TRUE(torch::equal(under_autocast, expected));
  EXPECT_TRUE(torch::equal(cast->named_buffers()["u0"], plain->named_buffers()["u0"]));
  EXPECT_TRUE(torch::equal(cast->named_buffers()["sv0"], plain->named_buffers()["sv0"]));
}

TEST(StandingStats, ExactMeanOverBatchesForEveryBatchNorm) {
  for (const NormKind kind : {NormKind::bn, NormKind::mybn, NormKind::cross_replica}) {
    torch::manual_seed(3);
    CCBN bn(4, 3, /*shared=*/false, LayerFactory{}, kind, 1e-5);
    bn->train();
    std::vector<torch::Tensor> means, vars;
    bn->begin_standing_stats();
    for (int k = 0; k < 5; ++k) {
      const auto x = torch::randn({6, 4, 3, 3}) * (k + 1) + k;
      means.push_back(x.mean({0, 2, 3}));
      vars.push_back(kind == NormKind::mybn ? x.var({0, 2, 3}, false) : x.var({0, 2, 3}, true));
      bn->forward(x, torch::zeros({6}, torch::kLong));
    }
    bn->end_standing_stats();
    const auto buffers = state_dict(*bn);
    const std::string prefix = kind == NormKind::bn ? "" : "bn.";
    const std::string m = kind == NormKind::cross_replica ? "running_mean" : "stored_mean";
    const std::string v = kind == NormKind::cross_replica ? "running_var" : "stored_var";
    EXPECT_TRUE(torch::allclose(buffers.at(prefix + m), torch::stack(means).mean(0), 1e-5, 1e-5)) << static_cast<int>(kind);
    EXPECT_TRUE(torch::allclose(buffers.at(prefix + v), torch::stack(vars).mean(0), 1e-4, 1e-5)) << static_cast<int>(kind);
    // Eval now normalises with exactly those statistics.
    bn->eval();
    const auto x = torch::randn({2, 4, 3, 3});
    const auto y = torch::zeros({2}, torch::kLong);
    const auto expected = (x - buffers.at(prefix + m).view({1, -1, 1, 1})) /
                          torch::sqrt(buffers.at(prefix + v).view({1, -1, 1, 1}) + 1e-5);
    const auto gain = 1 + bn->gain.forward(y).view({2, -1, 1, 1});
    const auto bias = bn->bias.forward(y).view({2, -1, 1, 1});
    EXPECT_TRUE(torch::allclose(bn->forward(x, y), expected * gain + bias, 1e-4, 1e-5)) << static_cast<int>(kind);
  }
}

TEST(NormStyles, InstanceGroupAndNoNorm) {
  torch::manual_seed(4);
  const auto x = torch::randn({3, 32, 4, 4}) * 3 + 1;
  const auto y = torch::tensor({0, 1, 2}, torch::kLong);
  {
    CCBN gn(32, 3, false, LayerFactory{}, NormKind::gn, 1e-5);
    torch::nn::init::zeros_(gn->gain.ptr()->named_parameters()["weight"]);
    torch::nn::init::zeros_(gn->bias.ptr()->named_parameters()["weight"]);
    const auto out = gn->forward(x, y).view({3, 16, -1});  // 16 groups of 2 channels
    EXPECT_LT(out.mean(-1).abs().max().item<double>(), 1e-5);
    EXPECT_TRUE(state_dict(*gn).count("stored_mean") == 0);
  }
  {
    CCBN in(32, 3, false, LayerFactory{}, NormKind::in, 1e-5);
    in->train();
    const auto out = in->forward(x, y);
    const auto gain = 1 + in->gain.forward(y).view({3, -1, 1, 1});
    const auto bias = in->bias.forward(y).view({3, -1, 1, 1});
    const auto normed = (out - bias) / gain;
    EXPECT_LT(normed.mean({2, 3}).abs().max().item<double>(), 1e-4);
    EXPECT_FALSE(torch::equal(state_dict(*in).at("stored_mean"), torch::zeros({32})));
  }
  {
    CCBN none(32, 3, false, LayerFactory{}, NormKind::nonorm, 1e-5);
    const auto gain = 1 + none->gain.forward(y).view({3, -1, 1, 1});
    const auto bias = none->bias.forward(y).view({3, -1, 1, 1});
    EXPECT_TRUE(torch::allclose(none->forward(x, y), x * gain + bias));
  }
}

TEST(NormStyles, CrossReplicaEvalMultipliesGain) {
  // BigGAN-PyTorch adds the gain in this path (spec §4.1); we multiply, as BN is defined.
  CCBN bn(4, 3, false, LayerFactory{}, NormKind::cross_replica, 1e-5);
  bn->eval();
  const auto x = torch::randn({2, 4, 2, 2});
  const auto y = torch::tensor({1, 2}, torch::kLong);
  const auto gain = 1 + bn->gain.forward(y).view({2, -1, 1, 1});
  const auto bias = bn->bias.forward(y).view({2, -1, 1, 1});
  EXPECT_TRUE(torch::allclose(bn->forward(x, y), x / std::sqrt(1 + 1e-5) * gain + bias, 1e-5, 1e-6));
}

TEST(NormStyles, ReducerSeesSumsAndCount) {
  CCBN bn(3, 2, false, LayerFactory{}, NormKind::cross_replica, 1e-5);
  bn->train();
  int calls = 0;
  bn->norm->set_reducer([&](const torch::Tensor& t) {
    ++calls;
    EXPECT_EQ(t.numel(), 7);  // C sums, C sums of squares, count
    return t * 2;             // as if a second rank had identical data: statistics unchanged
  });
  const auto x = torch::randn({4, 3, 2, 2});
  const auto y = torch::zeros({4}, torch::kLong);
  const auto with_reducer = bn->forward(x, y);
  EXPECT_EQ(calls, 1);
  bn->norm->set_reducer(nullptr);
  EXPECT_TRUE(torch::allclose(with_reducer, bn->forward(x, y), 1e-5, 1e-6));
}

TEST(WeightLoading, StrictListsOffendingKeysLenientToleratesMissingSv) {
  SNLinear a(4, 3, true, SNOptions{});
  auto dict = state_dict(*a);
  dict.erase("sv0");
  dict["stray"] = torch::zeros({1});
  try {
    load_state_dict(*a, dict, true, "G.pth");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("G.pth"), std::string::npos);
    EXPECT_NE(m.find("missing keys: sv0"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected keys: stray"), std::string::npos) << m;
  }
  const auto report = load_state_dict(*a, dict, false, "G.pth");
  EXPECT_EQ(report.missing, std::vector<std::string>{"sv0"});
  dict["weight"] = torch::zeros({5, 4});
  try {
    load_state_dict(*a, dict, false, "G.pth");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shape mismatch: weight"), std::string::npos) << e.what();
  }
}

TEST(UnknownOptions, AreErrors) {
  EXPECT_THROW(norm_kind(static_cast<NormStyle>(99), false, false), Error);
  EXPECT_THROW(G_arch(64, 48), Error);
  EXPECT_THROW(D_arch(64, 1024), Error);
  EXPECT_THROW(deep_D_arch(64, 512), Error);
}

TEST(Init, MethodsChangeWeightsAndKeepBiases) {
  for (const auto init : {WeightInit::ortho, WeightInit::N02, WeightInit::glorot, WeightInit::xavier}) {
    torch::manual_seed(5);
    SNConv2d conv(4, 6, 3, 1, true, SNOptions{});
    const auto bias = conv->bias.clone();
    init_weights(*conv, init);
    EXPECT_TRUE(torch::equal(bias, conv->bias)) << static_cast<int>(init);
    if (init == WeightInit::ortho) {
      const auto W = conv->weight.view({6, -1});
      EXPECT_TRUE(torch::allclose(torch::mm(W, W.t()), torch::eye(6), 1e-5, 1e-5));
    }
    if (init == WeightInit::N02) {
      EXPECT_NEAR(conv->weight.std().item<double>(), 0.02, 0.008);
    }
  }
}

}  // namespace
}  // namespace biggan::model
