// Parameter counts of the paper-size models and state_dict keys/shapes for every configuration
// listed in ../shared/reference/keys/.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "config/module_options.h"
#include "fixture_support.h"
#include "model/networks.h"
#include "model/state_dict.h"

namespace biggan::model {
namespace {

const std::string kConfigs = std::string(BIGGAN_SOURCE_DIR) + "/configs/";

config::Config config_of(const std::string& file, std::vector<std::string> sets = {}) {
  sets.push_back("model.skip_init=true");  // counts and keys do not depend on init
  return config::load({kConfigs + file}, sets, 1);
}

TEST(ParameterCounts, BigGAN128Ch96) {
  const auto c = config_of("biggan128_bs256x8.yaml");
  EXPECT_EQ(parameter_count(*Generator(config::generator_options(c))), 70433988);
  EXPECT_EQ(parameter_count(*Discriminator(config::discriminator_options(c))), 87982370);
}

TEST(ParameterCounts, BigGANDeep128Ch128Depth2) {
  const auto c = config_of("biggandeep128_bs256x8.yaml");
  EXPECT_EQ(parameter_count(*Generator(config::generator_options(c))), 50244484);
  EXPECT_EQ(parameter_count(*Discriminator(config::discriminator_options(c))), 34590210);
}

// What the trainer's memory check uses instead of building a network: exact for every config we
// ship (widths that are multiples of 8), attention and BigGAN-deep's bottlenecks included.
TEST(EstimatedStateBytes, EqualTheBuiltNetworksForTheShippedConfigs) {
  for (const char* file : {"biggan128_bs256x8.yaml", "biggandeep128_bs256x8.yaml", "sagan128_bs128x2_ema.yaml",
                           "sngan128.yaml", "cifar10_ema.yaml", "fmnist_demo.yaml"}) {
    SCOPED_TRACE(file);
    const auto c = config_of(file);
    const auto G = config::generator_options(c);
    const auto D = config::discriminator_options(c);
    const StateBytes built_G = state_bytes(*Generator(G)), built_D = state_bytes(*Discriminator(D));
    const StateBytes estimated_G = estimated_state_bytes(G), estimated_D = estimated_state_bytes(D);
    EXPECT_EQ(estimated_G.parameters, built_G.parameters);
    EXPECT_EQ(estimated_G.buffers, built_G.buffers);
    EXPECT_EQ(estimated_D.parameters, built_D.parameters);
    EXPECT_EQ(estimated_D.buffers, built_D.buffers);
    EXPECT_GT(built_G.buffers, 0u);
  }
}

// Large latents, embeddings, class counts and SN vector counts are interpolated too, with their
// cross terms (n_classes x shared_dim, num_svs x channels).
TEST(EstimatedStateBytes, AreExactForLargeLatentEmbeddingClassAndSVCounts) {
  for (const char* file : {"fmnist_demo.yaml", "biggandeep128_bs256x8.yaml"}) {
    SCOPED_TRACE(file);
    auto c = config_of(file, {"model.dim_z=2050", "model.shared_dim=1100", "model.num_G_SVs=17", "model.num_D_SVs=18",
                              "model.G_depth=9", "model.D_depth=10"});
    c.derived.n_classes = 1500;  // as a custom dataset's data.n_classes would give
    const auto G = config::generator_options(c);
    const auto D = config::discriminator_options(c);
    const StateBytes built_G = state_bytes(*Generator(G)), built_D = state_bytes(*Discriminator(D));
    EXPECT_EQ(estimated_state_bytes(G).parameters, built_G.parameters);
    EXPECT_EQ(estimated_state_bytes(G).buffers, built_G.buffers);
    EXPECT_EQ(estimated_state_bytes(D).parameters, built_D.parameters);
    EXPECT_EQ(estimated_state_bytes(D).buffers, built_D.buffers);
  }
}

TEST(EstimatedStateBytes, AreWithinRoundingForWidthsThatAreNotMultiplesOf8) {
  // Attention's C/8 and BigGAN-deep's C/4 round down here, which the quadratic does not.
  const auto c = config_of("biggandeep128_bs256x8.yaml", {"model.G_ch=13", "model.D_ch=11", "model.G_attn=64",
                                                          "model.D_attn=64"});
  const auto G = config::generator_options(c);
  const auto D = config::discriminator_options(c);
  const double built_G = state_bytes(*Generator(G)).parameters, built_D = state_bytes(*Discriminator(D)).parameters;
  EXPECT_NE(estimated_state_bytes(G).parameters, static_cast<std::uint64_t>(built_G));  // the rounding is there
  EXPECT_NEAR(estimated_state_bytes(G).parameters / built_G, 1.0, 0.02);
  EXPECT_NEAR(estimated_state_bytes(D).parameters / built_D, 1.0, 0.02);
}

// "key (d0, d1) float32" lines -> "key|d0,d1|float32".
std::set<std::string> reference_keys(const std::string& path) {
  std::ifstream in(path);
  std::set<std::string> keys;
  std::string line;
  const std::regex row(R"(^(\S+)\s+\(([^)]*)\)\s+(\S+)$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_match(line, m, row)) continue;
    std::string shape = std::regex_replace(m[2].str(), std::regex(R"(\s|,$)"), "");
    keys.insert(m[1].str() + "|" + shape + "|" + m[3].str());
  }
  return keys;
}

std::set<std::string> our_keys(const torch::nn::Module& net) {
  std::set<std::string> keys;
  for (const auto& [k, v] : state_dict(net)) {
    std::string shape;
    for (std::size_t i = 0; i < v.sizes().size(); ++i) shape += (i ? "," : "") + std::to_string(v.sizes()[i]);
    keys.insert(k + "|" + shape + "|" + (v.scalar_type() == torch::kLong ? "int64" : "float32"));
  }
  return keys;
}

void expect_same_keys(const std::set<std::string>& ours, const std::set<std::string>& reference, const std::string& what) {
  ASSERT_FALSE(reference.empty()) << what;
  std::vector<std::string> missing, extra;
  for (const auto& k : reference)
    if (!ours.count(k)) missing.push_back(k);
  for (const auto& k : ours)
    if (!reference.count(k)) extra.push_back(k);
  EXPECT_TRUE(missing.empty()) << what << " missing " << missing.size() << ", first: " << (missing.empty() ? "" : missing[0]);
  EXPECT_TRUE(extra.empty()) << what << " extra " << extra.size() << ", first: " << (extra.empty() ? "" : extra[0]);
}

struct KeysCase {
  const char* listing;
  const char* config;
  std::vector<std::string> sets;
  bool generator;
};

class ReferenceKeys : public ::testing::TestWithParam<KeysCase> {};

TEST_P(ReferenceKeys, StateDictEqualsListing) {
  const auto& p = GetParam();
  const std::string path = testing::reference_dir() + "/keys/" + p.listing;
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found (present in CI)";
  const auto c = config_of(p.config, p.sets);
  if (p.generator)
    expect_same_keys(our_keys(*Generator(config::generator_options(c))), reference_keys(path), p.listing);
  else
    expect_same_keys(our_keys(*Discriminator(config::discriminator_options(c))), reference_keys(path), p.listing);
}

INSTANTIATE_TEST_SUITE_P(
    Listings, ReferenceKeys,
    ::testing::Values(
        KeysCase{"BigGAN_G128_ch96_hier_shared.txt", "biggan128_bs256x8.yaml", {}, true},
        KeysCase{"BigGAN_D128_ch96.txt", "biggan128_bs256x8.yaml", {}, false},
        KeysCase{"BigGAN_G128_ch64_noshared_nohier.txt", "biggan128_bs256x8.yaml",
                 {"model.G_ch=64", "model.G_shared=false", "model.hier=false", "model.dim_z=128"}, true},
        KeysCase{"BigGAN_G128_ch96_cross_replica.txt", "biggan128_bs256x8.yaml", {"model.cross_replica=true"}, true},
        KeysCase{"BigGAN_G128_ch96_mybn.txt", "biggan128_bs256x8.yaml", {"model.mybn=true"}, true},
        KeysCase{"BigGANdeep_G128_ch128_depth2.txt", "biggandeep128_bs256x8.yaml", {}, true},
        KeysCase{"BigGANdeep_D128_ch128_depth2.txt", "biggandeep128_bs256x8.yaml", {}, false}),
    [](const ::testing::TestParamInfo<KeysCase>& param_info) {
      std::string n = param_info.param.listing;
      return n.substr(0, n.find('.'));
    });

// The fixtures' own listings (tab-separated: name, [shape], dtype, kind) for the 32 px and
// 128 px fixture configs.
std::set<std::string> fixture_keys(const std::string& path, const std::string& net) {
  std::ifstream in(path);
  std::set<std::string> keys;
  std::string line, section;
  while (std::getline(in, line)) {
    if (line == "[G]" || line == "[D]") {
      section = line.substr(1, 1);
      continue;
    }
    if (line.empty() || line[0] == '#' || section != net) continue;
    std::stringstream s(line);
    std::string name, shape, dtype;
    std::getline(s, name, '\t');
    std::getline(s, shape, '\t');
    std::getline(s, dtype, '\t');
    shape = std::regex_replace(shape, std::regex(R"([\[\]\s])"), "");
    keys.insert(name + "|" + shape + "|" + dtype);
  }
  return keys;
}

TEST(FixtureKeys, BothFixtureConfigs) {
  BIGGAN_REQUIRE_FIXTURES();
  for (const std::string name : {"cifar32_ch16", "s128_ch8"}) {
    const auto c = testing::fixture_config(name);
    const std::string listing = testing::fixtures_dir() + "/keys_" + name + ".txt";
    expect_same_keys(our_keys(*Generator(config::generator_options(c))), fixture_keys(listing, "G"), name + " G");
    expect_same_keys(our_keys(*Discriminator(config::discriminator_options(c))), fixture_keys(listing, "D"), name + " D");
  }
}

TEST(Architectures, EveryResolutionAndDepthBuildsAndRuns) {
  torch::NoGradGuard no_grad;
  struct Case { int res; std::string model; int depth; };
  for (const Case& k : {Case{32, "BigGAN", 1}, Case{64, "BigGAN", 1}, Case{128, "BigGAN", 1}, Case{256, "BigGAN", 1},
                        Case{512, "BigGAN", 1}, Case{32, "BigGANdeep", 1}, Case{64, "BigGANdeep", 2},
                        Case{64, "BigGANdeep", 3}}) {
    const auto c = config::load({}, {"data.dataset=custom", "data.path=x.h5", "data.resolution=" + std::to_string(k.res),
                                     "data.n_classes=5", "model.model=" + k.model, "model.G_ch=4", "model.D_ch=4",
                                     "model.G_shared=true", "model.hier=true", "model.shared_dim=8", "model.dim_z=16",
                                     "model.G_depth=" + std::to_string(k.depth), "model.D_depth=" + std::to_string(k.depth),
                                     "model.G_attn=16", "model.D_attn=16"},
                                1);
    Generator G(config::generator_options(c));
    Discriminator D(config::discriminator_options(c));
    const auto y = torch::tensor({0, 4}, torch::kLong);
    const auto x = G->forward(torch::randn({2, c.derived.dim_z}), G->shared(y));
    ASSERT_EQ(x.sizes(), (std::vector<int64_t>{2, 3, k.res, k.res})) << k.res << " " << k.model << " " << k.depth;
    EXPECT_EQ(D->forward(x, y).sizes(), (std::vector<int64_t>{2, 1})) << k.res << " " << k.model;
  }
}

// model.channels_last changes only the memory order inside G and D: from the same weights the
// outputs, and D's gradient with respect to its input, equal NCHW's to float rounding, and G
// hands back NCHW images (callers read their data). Attention at 16 px covers its reshapes.
TEST(Architectures, ChannelsLastEqualsNCHW) {
  for (const std::string model : {"BigGAN", "BigGANdeep"}) {
    std::vector<torch::Tensor> images, D_out, D_grad;
    for (const bool channels_last : {true, false}) {
      const auto c = config::load({}, {"data.dataset=custom", "data.path=x.h5", "data.resolution=32", "data.n_classes=5",
                                       "model.model=" + model, "model.G_ch=8", "model.D_ch=8", "model.G_shared=true", "model.hier=true",
                                       "model.shared_dim=8", "model.dim_z=16", "model.G_attn=16", "model.D_attn=16",
                                       std::string("model.channels_last=") + (channels_last ? "true" : "false")},
                                  1);
      torch::manual_seed(3);
      Generator G(config::generator_options(c));
      Discriminator D(config::discriminator_options(c));
      G->eval();
      D->eval();
      const auto y = torch::tensor({0, 4, 2}, torch::kLong);
      torch::Tensor x;
      {
        torch::NoGradGuard no_grad;
        x = G->forward(torch::randn({3, c.derived.dim_z}), G->shared(y));
      }
      EXPECT_TRUE(x.is_contiguous()) << model << " channels_last " << channels_last;
      const auto input = x.detach().clone().requires_grad_(true);
      const auto out = D->forward(input, y);
      out.sum().backward();
      images.push_back(x);
      D_out.push_back(out.detach());
      D_grad.push_back(input.grad());
    }
    EXPECT_LT(testing::relative_error(images[0], images[1]), 1e-5) << model;
    EXPECT_LT(testing::relative_error(D_out[0], D_out[1]), 1e-5) << model;
    EXPECT_LT(testing::relative_error(D_grad[0], D_grad[1]), 1e-5) << model;
  }
}

// What one training-mode pass of D(G(z)) leaves: its output, every parameter's gradient and every
// buffer (BN statistics, SN's u and sigma), by name.
struct TrainPass {
  torch::Tensor out;
  std::map<std::string, torch::Tensor> grads, buffers;
};

TrainPass train_pass(const std::string& model, const std::vector<std::string>& extra, torch::Dtype dtype) {
  std::vector<std::string> sets{"data.dataset=custom", "data.path=x.h5", "data.resolution=32", "data.n_classes=5",
                                "model.model=" + model, "model.G_ch=8", "model.D_ch=8", "model.G_shared=true",
                                "model.hier=true", "model.shared_dim=8", "model.dim_z=16", "model.G_attn=16",
                                "model.D_attn=16"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  const auto c = config::load({}, sets, 1);
  torch::manual_seed(5);
  Generator G(config::generator_options(c));
  Discriminator D(config::discriminator_options(c));
  G->to(dtype);
  D->to(dtype);
  const auto y = torch::tensor({0, 4, 2, 1}, torch::kLong);
  const auto z = torch::randn({4, c.derived.dim_z}).to(dtype);
  const auto out = D->forward(G->forward(z, G->shared(y)), y);
  out.sum().backward();
  TrainPass pass{out.detach(), {}, {}};
  for (const auto* net : {static_cast<torch::nn::Module*>(G.get()), static_cast<torch::nn::Module*>(D.get())}) {
    const std::string prefix = net == G.get() ? "G." : "D.";
    for (const auto& p : net->named_parameters())
      if (p.value().grad().defined()) pass.grads[prefix + p.key()] = p.value().grad().clone();
    for (const auto& b : net->named_buffers()) pass.buffers[prefix + b.key()] = b.value().clone();
  }
  return pass;
}

// model.fused_resampling computes the convolutions beside G's upsampling and D's pooling at the
// low resolution (model/resampling_conv.h): an exact rewrite, so from the same weights a training
// pass gives the literal order's output, gradients and BN/SN state, in both memory orders.
// BigGAN-deep covers the fused G bottleneck and the D it leaves alone.
// In float64, because this z sits where G's gradient jumps (a unit at its ReLU's kink): even there,
// scaling z by 1 + 1e-5 moves blocks.2.0.conv1's gradient by 0.64%, so float32 rounding lands on
// either side, and a float32 tolerance held or failed with the CPU's OpenBLAS kernels (SkylakeX
// and Sandybridge ones 0.6% off, Haswell's 1e-6, 2026-12-02). The float32 kernels are checked op
// by op in resampling_conv_test.cpp. Measured: at most 8e-15 of a layer's gradient scale; one tap
// off by 0.1% gives 0.15, far over the 1e-10 allowed.
TEST(Architectures, FusedResamplingEqualsTheLiteralOrder) {
  double worst_gradient = 0, worst_other = 0;
  for (const std::string model : {"BigGAN", "BigGANdeep"}) {
    for (const std::string layout : {"true", "false"}) {
      const std::string what = model + " channels_last=" + layout;
      const TrainPass fused =
          train_pass(model, {"model.channels_last=" + layout, "model.fused_resampling=true"}, torch::kDouble);
      const TrainPass literal =
          train_pass(model, {"model.channels_last=" + layout, "model.fused_resampling=false"}, torch::kDouble);
      const double out_error = testing::relative_error(fused.out, literal.out);
      worst_other = std::max(worst_other, out_error);
      EXPECT_LT(out_error, 1e-10) << what;
      ASSERT_EQ(fused.grads.size(), literal.grads.size()) << what;
      ASSERT_GT(fused.grads.size(), 20u) << what;
      for (const auto& [name, grad] : literal.grads) {
        ASSERT_TRUE(fused.grads.count(name)) << what << " " << name;
        // A bias that feeds a training-mode BN has a zero gradient in exact arithmetic (BN
        // subtracts the mean), so its value is rounding noise: measure it against its layer's
        // weight gradient instead.
        double scale = grad.abs().max().item<double>();
        const auto dot = name.rfind(".bias");
        if (dot != std::string::npos && literal.grads.count(name.substr(0, dot) + ".weight"))
          scale = std::max(scale, literal.grads.at(name.substr(0, dot) + ".weight").abs().max().item<double>());
        // Attention behind gamma = 0 gets exact zeros in both.
        const double error = (fused.grads.at(name) - grad).abs().max().item<double>();
        if (scale > 0) worst_gradient = std::max(worst_gradient, error / scale);
        EXPECT_LE(error, 1e-10 * scale) << what << " " << name;
      }
      ASSERT_EQ(fused.buffers.size(), literal.buffers.size()) << what;
      for (const auto& [name, buffer] : literal.buffers) {
        if (buffer.is_floating_point()) {
          const double error = testing::relative_error(fused.buffers.at(name), buffer);
          worst_other = std::max(worst_other, error);
          EXPECT_LT(error, 1e-10) << what << " " << name;
        }
      }
    }
  }
  std::cout << "largest gradient error " << worst_gradient << " of its scale, output/buffer " << worst_other << "\n";
}

}  // namespace
}  // namespace biggan::model
