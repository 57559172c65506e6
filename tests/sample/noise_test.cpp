// Latents and the uint8 export: the truncation trick bounds z, z_var scales it, pixels round.
#include <gtest/gtest.h>

#include "core/error.h"
#include "sample/export.h"
#include "sample/noise.h"

namespace biggan::sample {
namespace {

TEST(Noise, TruncationBoundsEveryEntryAndZVarScales) {
  auto gen = at::detail::createCPUGenerator(5);
  const auto z = sample_z(2000, 16, 1.0, 0.5, gen);
  EXPECT_LE(z.abs().max().item<float>(), 0.5f);
  EXPECT_GT(z.abs().max().item<float>(), 0.45f);  // still fills the interval
  auto a = at::detail::createCPUGenerator(6), b = at::detail::createCPUGenerator(6);
  EXPECT_TRUE(torch::allclose(sample_z(10, 4, 0.25, 0.0, a), sample_z(10, 4, 1.0, 0.0, b) * 0.25));
  auto c = at::detail::createCPUGenerator(7);
  EXPECT_THROW(sample_z(1, 1, 1.0, -1.0, c), Error);
}

// Rejection keeps a draw with probability erf(t / sqrt 2): 8e-5 at t = 1e-4, where 100,000
// rounds used to leave some entries untruncated, and never at a subnormal t, where they all
// stayed N(0, 1) after 100,000 rounds over the whole tensor.
TEST(Noise, ATinyTruncationStillBoundsEveryEntryAndFillsTheInterval) {
  for (const double t : {1e-4, 1e-320}) {
    auto gen = at::detail::createCPUGenerator(8);
    const auto z = sample_z(1000, 16, 1.0, t, gen);
    EXPECT_LE(z.abs().max().item<float>(), static_cast<float>(t)) << "t " << t;
    if (t < 1e-300) continue;
    // Nearly uniform on [-t, t]: mean |z| is t / 2, and both signs occur.
    EXPECT_NEAR(z.abs().mean().item<double>(), t / 2, t / 50) << "t " << t;
    EXPECT_NEAR(z.mean().item<double>(), 0.0, t / 50) << "t " << t;
  }
  // Above the threshold the draws stay rejection sampling's, as before.
  auto a = at::detail::createCPUGenerator(9), b = at::detail::createCPUGenerator(9);
  const auto z = sample_z(50, 8, 1.0, 0.5, a);
  auto reference = torch::randn({50, 8}, b);
  for (int round = 0; round < 1000; ++round) {
    const auto outside = reference.abs() > 0.5;
    const auto redraw = outside.sum().item<std::int64_t>();
    if (redraw == 0) break;
    reference.masked_scatter_(outside, torch::randn({redraw}, b));
  }
  EXPECT_TRUE(torch::equal(z, reference));
}

TEST(Export, Uint8RoundsInsteadOfTruncating) {
  const auto x = torch::tensor({-1.0f, -0.999f, 0.0f, 0.5f, 1.0f, 1.5f}).view({1, 1, 2, 3});
  const auto u = to_uint8(x).flatten();
  EXPECT_EQ(u[0].item<int>(), 0);
  EXPECT_EQ(u[1].item<int>(), 0);    // 0.1275 -> 0
  EXPECT_EQ(u[2].item<int>(), 128);  // 127.5 -> 128 (half to even)
  EXPECT_EQ(u[3].item<int>(), 191);  // 191.25 -> 191 (BigGAN-PyTorch: 191 too)
  EXPECT_EQ(u[4].item<int>(), 255);
  EXPECT_EQ(u[5].item<int>(), 255);  // clamped
}

}  // namespace
TEST(KeyedLatents, ASampleIsTheSameWhicheverShardDrawsIt) {
  const auto whole = keyed_latents(LatentPurpose::evaluation, 7, 0, 10, 16, 5, 1.0, 0.5);
  const auto a = keyed_latents(LatentPurpose::evaluation, 7, 0, 4, 16, 5, 1.0, 0.5);
  const auto b = keyed_latents(LatentPurpose::evaluation, 7, 4, 6, 16, 5, 1.0, 0.5);
  EXPECT_TRUE(torch::equal(whole.z, torch::cat({a.z, b.z})));
  EXPECT_TRUE(torch::equal(whole.y, torch::cat({a.y, b.y})));
  EXPECT_LE(whole.z.abs().max().item<float>(), 0.5f);
  EXPECT_GE(whole.y.min().item<std::int64_t>(), 0);
  EXPECT_LT(whole.y.max().item<std::int64_t>(), 5);
  // Other purposes and seeds are other streams.
  EXPECT_FALSE(torch::equal(whole.z, keyed_latents(LatentPurpose::samples_export, 7, 0, 10, 16, 5, 1.0, 0.5).z));
  EXPECT_FALSE(torch::equal(whole.z, keyed_latents(LatentPurpose::evaluation, 8, 0, 10, 16, 5, 1.0, 0.5).z));
  EXPECT_EQ(keyed_latents(LatentPurpose::evaluation, 7, 3, 0, 16, 5).z.size(0), 0);
}

}  // namespace biggan::sample
