// One full training iteration from BigGAN-PyTorch's fixture state, data and recorded noise
// reproduces its gradients and parameters (../shared/fixtures, train/<variant>).
#include <gtest/gtest.h>

#include "../model/fixture_support.h"
#include "model/state_dict.h"
#include "train/gan_step.h"

namespace biggan::train {
namespace {

using testing::fixtures_dir;
using testing::relative_error;

struct Variant {
  std::string fixture, name;
};

class IterationParity : public ::testing::TestWithParam<Variant> {};

config::Config variant_config(const Variant& v, io::H5File& file) {
  const auto flags = nlohmann::json::parse(file.read_string_attribute("train/" + v.name, "config_json"));
  auto overrides = config::overrides_from_biggan_pytorch(flags);
  overrides.push_back("model.skip_init=true");
  return config::load({}, overrides, 1);
}

TEST_P(IterationParity, ParametersAfterOneIterationMatchBigGanPytorch) {
  BIGGAN_REQUIRE_FIXTURES();
  torch::set_num_threads(2);
  const Variant v = GetParam();
  io::H5File file(fixtures_dir() + "/" + v.fixture + "/fixture.h5", io::H5File::Mode::read);
  const auto config = variant_config(v, file);
  Gan gan(config, torch::kCPU);
  model::load_state_dict(*gan.G, file.read_group("init/G"), true, "init/G");
  model::load_state_dict(*gan.D, file.read_group("init/D"), true, "init/D");
  const std::string group = "train/" + v.name;
  NoiseSource recorded = [&](const MicroStep& m, std::int64_t) {
    return std::make_pair(file.read(group + "/noise/" + m.tag() + "_z"), file.read(group + "/noise/" + m.tag() + "_y"));
  };
  dist::Collectives collectives(dist::process_context(), torch::kCPU);
  gan.G->train();
  gan.D->train();
  const auto m = train_iteration(gan, config, file.read(group + "/x"), file.read(group + "/y"), recorded, collectives);

  // The returned losses are the original's numbers.
  EXPECT_NEAR(m.G_loss, file.read(group + "/returned/G_loss").item<double>(), 1e-5);
  EXPECT_NEAR(m.D_loss_real, file.read(group + "/returned/D_loss_real").item<double>(), 1e-5);
  EXPECT_NEAR(m.D_loss_fake, file.read(group + "/returned/D_loss_fake").item<double>(), 1e-5);

  // G gradients (summed over accumulations) agree in relative norm: the backward through D and
  // train-mode BN amplifies float32 rounding (the reference's own 1 vs 2 thread spread is ~1e-3).
  const auto G_grads = file.read_group(group + "/G_grads_first_step");
  for (const auto& p : gan.G->named_parameters()) {
    const auto& key = p.key();
    if (key.find("conv") != std::string::npos && key.find(".bias") != std::string::npos) continue;  // ~0 by theory
    ASSERT_TRUE(G_grads.count(key)) << key;
    const auto& ref = G_grads.at(key);
    const double norm = ref.norm().item<double>();
    if (norm == 0) continue;
    EXPECT_LT((p.value().grad() - ref).norm().item<double>() / norm, 1e-2) << key;
  }

  // D gradients right before the first D step: recomputed here with a fresh copy from the init
  // state over the first D step's micro-steps only (train_iteration goes on to later steps).
  {
    Gan fresh(config, torch::kCPU);
    model::load_state_dict(*fresh.G, file.read_group("init/G"), true, "init/G");
    model::load_state_dict(*fresh.D, file.read_group("init/D"), true, "init/D");
    auto one_step = config;
    one_step.train.num_D_steps = 1;
    one_step.derived.num_G_accumulations = 1;
    // Keep the D step, then read D's gradients before its optimizer moved: step with lr 0.
    for (auto& group_options : fresh.D_optim->param_groups())
      static_cast<torch::optim::AdamOptions&>(group_options.options()).lr(0);
    fresh.G->train();
    fresh.D->train();
    train_iteration(fresh, one_step, file.read(group + "/x"), file.read(group + "/y"), recorded, collectives);
    const auto D_grads = file.read_group(group + "/D_grads_first_step");
    for (const auto& p : fresh.D->named_parameters()) {
      ASSERT_TRUE(D_grads.count(p.key())) << p.key();
      const auto& ref = D_grads.at(p.key());
      const double norm = ref.norm().item<double>();
      if (norm == 0) continue;
      // The attention gain gamma is one number summed over a whole attention map with heavy
      // cancellation (measured 1.8e-3 here); every other gradient agrees to 1e-4.
      const double tolerance = ref.numel() == 1 ? 1e-2 : 1e-4;
      EXPECT_LT((p.value().grad() - ref).norm().item<double>() / norm, tolerance) << "D grad " << p.key();
    }
  }

  // Parameters and buffers after the whole iteration, compared as updates: Adam's first step
  // with beta1 = 0 is about lr * sign(g), so an element whose gradient is at rounding level
  // (G conv biases are zero by theory; many near-zero G weight gradients) moves +-lr either way
  // between two correct runs. Each element is therefore allowed 2 lr per optimizer step, and the
  // whole update of each tensor must agree in relative norm.
  const auto init_G = file.read_group("init/G");
  const auto init_D = file.read_group("init/D");
  const auto compare = [&](const model::StateDict& ours, const model::StateDict& after, const model::StateDict& init,
                           double lr, int steps, const std::string& net) {
    double worst_update = 0;
    std::string worst_key;
    for (const auto& [key, ref] : after) {
      ASSERT_TRUE(ours.count(key)) << key;
      const auto mine = ours.at(key).to(torch::kFloat64), theirs = ref.to(torch::kFloat64);
      const bool buffer = key.find(".u0") != std::string::npos || key.find(".sv0") != std::string::npos ||
                          key.find("stored_") != std::string::npos;
      if (buffer) {
        EXPECT_LT(relative_error(mine, theirs), 1e-3) << net << " buffer " << key;
        continue;
      }
      EXPECT_LE((mine - theirs).abs().max().item<double>(), 2 * steps * lr * 1.01 + 1e-6) << net << " " << key;
      const auto base = init.at(key).to(torch::kFloat64);
      const double update = (theirs - base).norm().item<double>();
      if (update == 0) continue;
      const double rel = ((mine - base) - (theirs - base)).norm().item<double>() / update;
      const bool noise_bias = net == "G" && key.find("conv") != std::string::npos && key.find(".bias") != std::string::npos;
      if (!noise_bias && rel > worst_update) {
        worst_update = rel;
        worst_key = key;
      }
    }
    std::cout << net << ": largest relative update difference " << worst_update << " (" << worst_key << ")\n";
    EXPECT_LT(worst_update, net == "G" ? 0.1 : 0.01) << worst_key;
  };
  compare(model::state_dict(*gan.G), file.read_group(group + "/after/G"), init_G, config.optim.G_lr, 1, "G");
  compare(model::state_dict(*gan.D), file.read_group(group + "/after/D"), init_D, config.optim.D_lr,
          config.train.num_D_steps, "D");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, IterationParity,
                         ::testing::Values(Variant{"cifar32_ch16", "train_bs4_dsteps4"},
                                           Variant{"s128_ch8", "train_bs4_acc1"}, Variant{"s128_ch8", "train_bs4_acc2"}),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace biggan::train
