// Our G and D are the same functions as BigGAN-PyTorch's: loaded with the fixture weights they
// reproduce its outputs and its SN/BN buffers after train-mode forwards (../shared/fixtures).
#include <gtest/gtest.h>

#include "config/module_options.h"
#include "fixture_support.h"
#include "model/networks.h"
#include "model/state_dict.h"

namespace biggan::model {
namespace {

using testing::fixture_config;
using testing::fixtures_dir;
using testing::relative_error;

// Forward outputs: 1e-5 relative (the reference's own 1 vs 2 thread spread is <= 3e-6).
constexpr double kOutputTolerance = 1e-5;

class Parity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    BIGGAN_REQUIRE_FIXTURES();
    torch::set_num_threads(2);  // the fixtures were made with 2 threads
    config = std::make_unique<config::Config>(fixture_config(GetParam()));
    file = std::make_unique<io::H5File>(fixtures_dir() + "/" + GetParam() + "/fixture.h5", io::H5File::Mode::read);
  }
  Generator fresh_G() {
    Generator G(config::generator_options(*config));
    load_state_dict(*G, file->read_group("init/G"), /*strict=*/true, "init/G");
    return G;
  }
  Discriminator fresh_D() {
    Discriminator D(config::discriminator_options(*config));
    load_state_dict(*D, file->read_group("init/D"), /*strict=*/true, "init/D");
    return D;
  }
  void expect_buffers(const torch::nn::Module& net, const std::string& group) {
    const auto expected = file->read_group(group);
    const auto ours = state_dict(net);
    ASSERT_FALSE(expected.empty());
    for (const auto& [key, value] : expected) {
      ASSERT_TRUE(ours.count(key)) << key;
      // Buffers near zero (BN means) are compared absolutely against their scale.
      const double err = relative_error(ours.at(key), value);
      EXPECT_LT(err, 1e-4) << group << "/" << key;
    }
  }
  std::unique_ptr<config::Config> config;
  std::unique_ptr<io::H5File> file;
};

TEST_P(Parity, ParameterCountsMatchReference) {
  std::ifstream in(fixtures_dir() + "/" + GetParam() + "/info.json");
  const auto info = nlohmann::json::parse(in);
  EXPECT_EQ(parameter_count(*fresh_G()), info["param_counts"]["G"].get<std::int64_t>());
  EXPECT_EQ(parameter_count(*fresh_D()), info["param_counts"]["D"].get<std::int64_t>());
}

TEST_P(Parity, GeneratorAndDiscriminatorEvalMode) {
  torch::NoGradGuard no_grad;
  auto G = fresh_G();
  auto D = fresh_D();
  G->eval();
  D->eval();
  const torch::Tensor z = file->read("inputs/z");
  const torch::Tensor y = file->read("inputs/y");
  const torch::Tensor gy = G->shared(y);
  EXPECT_LT(relative_error(gy.to(torch::kDouble), file->read("forward/G_shared_y").to(torch::kDouble)), 1e-7);
  const torch::Tensor x = G->forward(z, gy);
  EXPECT_LT(relative_error(x, file->read("forward/G_eval_out")), kOutputTolerance);
  const torch::Tensor d = D->forward(file->read("forward/G_eval_out"), y);
  EXPECT_LT(relative_error(d, file->read("forward/D_eval_on_G_eval_out")), kOutputTolerance);
  // Eval mode writes nothing: the buffers are still the init state.
  const auto init = file->read_group("init/G");
  for (const auto& [k, v] : state_dict(*G))
    if (init.count(k)) {
      EXPECT_TRUE(torch::equal(v, init.at(k))) << k;
    }
}

TEST_P(Parity, TrainModeForwardsAndBuffers) {
  torch::NoGradGuard no_grad;
  auto G = fresh_G();
  auto D = fresh_D();
  G->train();
  const torch::Tensor z = file->read("inputs/z");
  const torch::Tensor y = file->read("inputs/y");
  const torch::Tensor x = G->forward(z, G->shared(y));
  EXPECT_LT(relative_error(x, file->read("forward/G_train_out")), kOutputTolerance);
  expect_buffers(*G, "forward/G_buffers_after_train_forward");

  const torch::Tensor reference_x = file->read("forward/G_train_out");
  D->eval();
  EXPECT_LT(relative_error(D->forward(reference_x, y), file->read("forward/D_eval_on_G_train_out")), kOutputTolerance);
  D->train();
  EXPECT_LT(relative_error(D->forward(reference_x, y), file->read("forward/D_train_on_G_train_out")), kOutputTolerance);
  expect_buffers(*D, "forward/D_buffers_after_train_forward");
}

TEST_P(Parity, GradientFlowsThroughSigma) {
  // The gradient of D's mean output is finite and non-zero for every SN weight, so sigma is
  // differentiable in W (the trainer issue compares hinge-loss gradients against the fixture;
  // a hinge term can be saturated at init, so a linear loss is used here).
  auto D = fresh_D();
  D->train();
  const torch::Tensor x = file->read("forward/G_train_out");
  const torch::Tensor y = file->read("inputs/y");
  D->forward(x, y).mean().backward();
  for (const auto& p : D->named_parameters()) {
    if (p.key().find(".gamma") != std::string::npos) continue;
    // Attention convs get exactly zero gradient while gamma is 0 (see fixtures/README.md).
    const bool in_attention = p.key().find(".1.") != std::string::npos;
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    if (!in_attention) {
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0) << p.key();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Parity, ::testing::Values("cifar32_ch16", "s128_ch8"));

}  // namespace
}  // namespace biggan::model
