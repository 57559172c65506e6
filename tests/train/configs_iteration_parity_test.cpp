// One whole training iteration against BigGAN-PyTorch's train_fns.GAN_training_function on
// configurations and training settings the stored fixtures do not cover (bp_configs.py's
// ITERATIONS): BigGAN-deep with 2 D steps, 2 D and 2 G accumulations and ortho reg in G;
// SN-GAN with 3 D steps, beta2 0.9 and a G batch of 6 against D's 4 in 3 G accumulations; C100
// with split_D, ortho reg in D and G, beta1 0.5. From the same state, real
// batch and recorded noise, in float64: the returned losses, the gradients left after the
// iteration, and every parameter and buffer after it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "../model/bp_reference.h"
#include "model/state_dict.h"
#include "train/gan_step.h"

namespace biggan::train {
namespace {

using testing::relative_error;

// In float64 one forward and backward agree to 1e-13 (tests/model/configs_parity_test.cpp);
// Adam's first step, lr g / (|g| + eps), magnifies a gradient's rounding by lr / eps where
// |g| is near eps. Measured on a 2-core AMD EPYC Zen 4 (OpenBLAS Cooperlake kernels), the worst
// loss, gradient, update or buffer of the three configurations: 1.1e-9 (an SN-GAN G update);
// 1.6e-9 with ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Haswell, 4.3e-10 with
// ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Zen.
constexpr double kTolerance = 1e-7;
// A gradient below this share of its network's largest is zero by theory (float64 rounding
// leaves ~1e-15 there).
constexpr double kZeroByTheory = 1e-8;

const std::string kIterationConfigs[] = {"deep32_ch16", "sngan128_ch8", "c100_ir"};

class OneIteration : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    BIGGAN_REQUIRE_BP_REFERENCE();
    torch::set_num_threads(2);
    const std::string dir = testing::bp_reference().folder + "/" + GetParam();
    ASSERT_TRUE(std::filesystem::exists(dir + "/iteration.h5")) << GetParam() << " is not in bp_configs.py's ITERATIONS";
    config = std::make_unique<config::Config>(testing::bp_reference_config(GetParam()));
    reference = std::make_unique<io::H5File>(dir + "/reference.h5", io::H5File::Mode::read);
    iteration = std::make_unique<io::H5File>(dir + "/iteration.h5", io::H5File::Mode::read);
  }

  // Parameters after the iteration as updates from the state before it (the update is what an
  // iteration computes); buffers (u, sv, running statistics) as they are, tensor by tensor.
  // A parameter whose gradient is zero by theory (G's conv biases before a BN) has a rounding-
  // level gradient, and Adam's first step, lr g / (|g| + eps), turns that into a move anywhere
  // in [-lr, lr]: its update is left out, its gradient is compared like every other.
  void expect_after(const torch::nn::Module& net, const std::string& name) {
    const auto grads = iteration->read_group("grad/" + name);
    double largest = 0;
    for (const auto& [key, g] : grads) largest = std::max(largest, g.abs().max().item<double>());
    std::set<std::string> undecided;
    for (const auto& [key, g] : grads)
      if (g.abs().max().item<double>() < kZeroByTheory * largest) undecided.insert(key);
    const auto before = reference->read_group("init/" + name);
    const auto after = iteration->read_group("after/" + name);
    const auto ours = model::state_dict(net);
    model::StateDict our_updates, their_updates;
    std::set<std::string> parameters;
    for (const auto& p : net.named_parameters()) parameters.insert(p.key());
    for (const auto& [key, value] : after) {
      ASSERT_TRUE(ours.count(key)) << name << " " << key;
      if (parameters.count(key)) {
        our_updates[key] = ours.at(key) - before.at(key);
        their_updates[key] = value - before.at(key);
        continue;
      }
      const double error = relative_error(ours.at(key), value);
      EXPECT_LT(error, kTolerance) << name << " buffer " << key;
      worst = std::max(worst, error);
    }
    worst = std::max(worst, testing::expect_close_to_largest(our_updates, their_updates, kTolerance, name + " update",
                                                             undecided));
    skipped += undecided.size();
  }
  model::StateDict gradients(const torch::nn::Module& net) {
    model::StateDict grads;
    for (const auto& p : net.named_parameters())
      if (p.value().grad().defined()) grads[p.key()] = p.value().grad();
    return grads;
  }

  std::unique_ptr<config::Config> config;
  std::unique_ptr<io::H5File> reference, iteration;
  double worst = 0;
  std::size_t skipped = 0;
};

TEST_P(OneIteration, LossesGradientsParametersAndBuffersAreBigGANPyTorchs) {
  Gan gan(*config, torch::kCPU);
  gan.G->to(torch::kDouble);
  gan.D->to(torch::kDouble);
  model::load_state_dict(*gan.G, reference->read_group("init/G"), /*strict=*/true, "init/G");
  model::load_state_dict(*gan.D, reference->read_group("init/D"), /*strict=*/true, "init/D");
  gan.G->train();
  gan.D->train();
  const NoiseSource recorded = [this](const MicroStep& m, std::int64_t) {
    return std::make_pair(iteration->read("noise/" + m.tag() + "_z"), iteration->read("noise/" + m.tag() + "_y"));
  };
  distributed::Collectives collectives(distributed::process_context(), torch::kCPU);
  const auto m = train_iteration(gan, *config, iteration->read("x"), iteration->read("y"), recorded, collectives);

  const std::pair<const char*, double> losses[] = {
      {"G_loss", m.G_loss}, {"D_loss_real", m.D_loss_real}, {"D_loss_fake", m.D_loss_fake}};
  for (const auto& [name, ours] : losses) {
    const double theirs = iteration->read(std::string("returned/") + name).item<double>();
    // A saturated hinge term is exactly 0 in both.
    const double error = std::abs(ours - theirs) / std::max(std::abs(theirs), 1e-12);
    EXPECT_LT(error, kTolerance) << name << ": ours " << ours << ", theirs " << theirs;
    worst = std::max(worst, error);
  }
  worst = std::max(worst, testing::expect_close_to_largest(gradients(*gan.G), iteration->read_group("grad/G"),
                                                           kTolerance, "G gradient"));
  worst = std::max(worst, testing::expect_close_to_largest(gradients(*gan.D), iteration->read_group("grad/D"),
                                                           kTolerance, "D gradient"));
  expect_after(*gan.G, "G");
  expect_after(*gan.D, "D");
  std::cout << GetParam() << ": worst relative difference " << worst << ", " << skipped
            << " updates with a rounding-level gradient left out\n";
}

INSTANTIATE_TEST_SUITE_P(BigGANPyTorch, OneIteration, ::testing::ValuesIn(kIterationConfigs));

}  // namespace
}  // namespace biggan::train
