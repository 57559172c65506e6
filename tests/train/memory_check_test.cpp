// The check that refuses networks too large for the host before they are built.
#include "train/memory_check.h"

#include <gtest/gtest.h>

#include "config/module_options.h"
#include "../error_of.h"
#include "model/networks.h"

namespace biggan::train {
namespace {

using testing::error_of;

const std::string kDemo = std::string(BIGGAN_SOURCE_DIR) + "/configs/fmnist_demo.yaml";
constexpr std::uint64_t GiB = 1024ull * 1024 * 1024;

core::HostMemory memory(std::uint64_t bytes) { return {bytes, "a test's figure"}; }

// What the check must count for the demo on the CPU: four copies of every parameter (weight,
// gradient, Adam's two moments), the buffers, and G_ema; measured on the networks themselves.
double demo_need_on_cpu(const config::Config& c) {
  const auto G = model::state_bytes(*model::Generator(config::generator_options(c)));
  const auto D = model::state_bytes(*model::Discriminator(config::discriminator_options(c)));
  return 4.0 * (G.parameters + D.parameters) + G.buffers + D.buffers + G.parameters + G.buffers;
}

TEST(NetworksFit, TheDemoFitsAndIsRefusedJustBelowItsNeed) {
  const auto c = config::load({kDemo}, {}, 2);
  const double need = demo_need_on_cpu(c);
  EXPECT_EQ(error_of([&] { check_networks_fit(c, true, 1, memory(static_cast<std::uint64_t>(need))); }), "(no error)");
  const std::string refused = error_of([&] { check_networks_fit(c, true, 1, memory(static_cast<std::uint64_t>(need) - 1)); });
  EXPECT_NE(refused.find(kDemo + ":8: model.G_ch: 16 makes G and D too large for this machine: G's and D's "
                                 "weights, buffers, gradients and Adam's two moments, and G_ema need "),
            std::string::npos)
      << refused;
  EXPECT_NE(refused.find(" before any activation (G: " + std::to_string(model::parameter_count(
                             *model::Generator(config::generator_options(c)))) + " parameters, D: "),
            std::string::npos)
      << refused;
  EXPECT_NE(refused.find("is available (a test's figure)"), std::string::npos) << refused;
  // Two ranks on one node need twice as much.
  const std::string two = error_of([&] { check_networks_fit(c, true, 2, memory(static_cast<std::uint64_t>(need) + 1)); });
  EXPECT_NE(two.find("for the 2 ranks on this node"), std::string::npos) << two;
  EXPECT_EQ(error_of([&] { check_networks_fit(c, true, 2, memory(static_cast<std::uint64_t>(2 * need))); }), "(no error)");
}

TEST(NetworksFit, OnAGpuOnlyTheNetworksAsBuiltCountOnTheHost) {
  const auto c = config::load({kDemo}, {}, 2);
  const double need = demo_need_on_cpu(c);
  EXPECT_EQ(error_of([&] { check_networks_fit(c, false, 1, memory(static_cast<std::uint64_t>(need / 3))); }), "(no error)");
  const std::string refused = error_of([&] { check_networks_fit(c, false, 1, memory(1000)); });
  EXPECT_NE(refused.find("G's and D's weights and buffers as built on the host need"), std::string::npos) << refused;
}

TEST(NetworksFit, AWidthTypoIsRefusedAtItsKeyWithTheCounts) {
  const auto G_wide = config::load({kDemo}, {"model.G_ch=96000"}, 2);
  const std::string G_error = error_of([&] { check_networks_fit(G_wide, true, 2, memory(24 * GiB)); });
  EXPECT_EQ(G_error.rfind("--set: model.G_ch: 96000 makes G and D too large for this machine", 0), 0u) << G_error;
  EXPECT_NE(G_error.find("TiB for the 2 ranks on this node before any activation (G: "), std::string::npos) << G_error;
  EXPECT_NE(G_error.find(" but 24.0 GiB is available"), std::string::npos) << G_error;
  const auto D_wide = config::load({kDemo}, {"model.D_ch=96000"}, 2);
  const std::string D_error = error_of([&] { check_networks_fit(D_wide, false, 1, memory(24 * GiB)); });
  EXPECT_EQ(D_error.rfind("--set: model.D_ch: 96000 makes G and D too large", 0), 0u) << D_error;
}

// The key named is the one whose usual value would shrink the need the most, also when the
// widths are larger than usual too.
TEST(NetworksFit, TheKeyNamedIsTheValueThatMakesTheNetworksLarge) {
  const std::vector<std::pair<std::string, std::string>> typos{
      {"model.dim_z=64000000", "model.dim_z: 64000000 makes"},  // a multiple of the 4 hierarchical chunks
      {"model.shared_dim=64000000", "model.shared_dim: 64000000 makes"},
      {"model.num_G_SVs=5000000", "model.num_G_SVs: 5000000 makes"},
      {"model.num_D_SVs=5000000", "model.num_D_SVs: 5000000 makes"},
  };
  for (const auto& [set, expected] : typos) {
    const auto c = config::load({kDemo}, {set, "model.G_ch=96", "model.D_ch=96"}, 2);
    const std::string error = error_of([&] { check_networks_fit(c, true, 1, memory(24 * GiB)); });
    EXPECT_EQ(error.rfind("--set: " + expected, 0), 0u) << error;
  }
  // BigGAN-deep's blocks per stage (BigGAN reads no depth).
  const auto deep = config::load({std::string(BIGGAN_SOURCE_DIR) + "/configs/biggandeep128_bs256x8.yaml"},
                                 {"model.D_depth=20000"}, 1);
  const std::string error = error_of([&] { check_networks_fit(deep, false, 1, memory(24 * GiB)); });
  EXPECT_EQ(error.rfind("--set: model.D_depth: 20000 makes", 0), 0u) << error;
  // Fits, with 24 GiB, when the typo is fixed.
  const auto fixed = config::load({kDemo}, {"model.G_ch=96", "model.D_ch=96"}, 2);
  EXPECT_EQ(error_of([&] { check_networks_fit(fixed, true, 1, memory(24 * GiB)); }), "(no error)");
}

}  // namespace
}  // namespace biggan::train
