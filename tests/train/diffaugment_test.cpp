// DiffAugment: each transform's shape, range and meaning (against the reference
// DiffAugment_pytorch.py's formulas and index arithmetic, with the same draws), identity when
// off, gradients through every transform, and keys that make 1 and 2 ranks augment alike.
#include <gtest/gtest.h>

#include "config/choices.h"
#include "core/error.h"
#include "train/diffaugment.h"

namespace biggan::train {
namespace {

using config::Augmentation;

torch::Tensor images(std::int64_t n = 6, std::int64_t side = 32) {
  auto gen = at::detail::createCPUGenerator(7);
  return torch::rand({n, 3, side, side}, gen) * 2 - 1;
}

std::vector<std::uint64_t> keys(std::int64_t n, std::uint64_t seed) {
  std::vector<std::uint64_t> k;
  for (std::int64_t i = 0; i < n; ++i) k.push_back(seed * 1000 + static_cast<std::uint64_t>(i));
  return k;
}

torch::Tensor augmented(const torch::Tensor& x, const config::AugmentPolicy& policy, std::uint64_t seed) {
  return diff_augment(x, policy, keys(x.size(0), seed));
}

TEST(DiffAugment, OffReturnsTheInputItself) {
  const auto x = images();
  const DiffAugment off;
  EXPECT_TRUE(off.fake(x, MicroStep{}).is_same(x));
  EXPECT_TRUE(off.real(x, MicroStep{}, 0).is_same(x));
  EXPECT_TRUE(torch::equal(augmented(x, {}, 1), x));
}

TEST(DiffAugment, ColorShiftsAGreyImageByItsBrightnessOnly) {
  // Saturation and contrast scale around means that equal every pixel of a flat grey image, so
  // only the brightness draw, in [-0.5, 0.5), remains.
  const auto x = torch::full({64, 3, 8, 8}, 0.25);
  const auto y = augmented(x, {Augmentation::color}, 3);
  ASSERT_EQ(y.sizes(), x.sizes());
  const auto shift = (y - x).amax({1, 2, 3});
  EXPECT_TRUE(torch::allclose((y - x).amin({1, 2, 3}), shift, 0, 1e-6));
  EXPECT_GE(shift.min().item<float>(), -0.5f);
  EXPECT_LT(shift.max().item<float>(), 0.5f);
  EXPECT_GT(shift.std().item<float>(), 0.1f);  // drawn per image
}

TEST(DiffAugment, ColorMatchesTheReferenceFormulas) {
  const auto x = images();
  const auto p = draw_parameters({Augmentation::color}, keys(6, 11), 32, 32);
  const auto b = p.brightness.view({6, 1, 1, 1}), s = p.saturation.view({6, 1, 1, 1}), c = p.contrast.view({6, 1, 1, 1});
  auto want = x + (b - 0.5);
  want = (want - want.mean({1}, true)) * (s * 2) + want.mean({1}, true);
  want = (want - want.mean({1, 2, 3}, true)) * (c + 0.5) + want.mean({1, 2, 3}, true);
  EXPECT_TRUE(torch::allclose(augmented(x, {Augmentation::color}, 11), want, 1e-6, 1e-6));
}

TEST(DiffAugment, TranslationShiftsByTheDrawnOffsetsWithZeroPadding) {
  const std::int64_t n = 8, side = 32;
  const auto x = images(n, side);
  const auto y = augmented(x, {Augmentation::translation}, 5);
  const auto p = draw_parameters({Augmentation::translation}, keys(n, 5), side, side);
  const auto th = p.shift_h, tw = p.shift_w;
  EXPECT_LE(th.abs().max().item<std::int64_t>(), 4);  // 32 / 8
  EXPECT_LE(tw.abs().max().item<std::int64_t>(), 4);
  bool shifted = false;
  for (std::int64_t b = 0; b < n; ++b) {
    const auto dh = th[b].item<std::int64_t>(), dw = tw[b].item<std::int64_t>();
    shifted |= dh != 0 || dw != 0;
    for (std::int64_t i = 0; i < side; ++i)
      for (std::int64_t j = 0; j < side; ++j) {
        // The reference: out[i, j] = padded[clamp(i + dh + 1, 0, H + 1), clamp(j + dw + 1, 0, W + 1)].
        const std::int64_t si = i + dh, sj = j + dw;
        const float want = (si < 0 || si >= side || sj < 0 || sj >= side) ? 0.f : x[b][1][si][sj].item<float>();
        ASSERT_EQ(y[b][1][i][j].item<float>(), want) << "image " << b << " at " << i << "," << j;
      }
  }
  EXPECT_TRUE(shifted);
}

TEST(DiffAugment, CutoutZeroesOneSquareOfHalfTheSide) {
  const std::int64_t n = 32, side = 16;
  const auto x = torch::ones({n, 3, side, side});
  const auto y = augmented(x, {Augmentation::cutout}, 9);
  const auto p = draw_parameters({Augmentation::cutout}, keys(n, 9), side, side);
  const auto oh = p.cutout_h, ow = p.cutout_w;
  EXPECT_LE(oh.max().item<std::int64_t>(), side);  // size 8 is even: centres in [0, side]
  EXPECT_GE(oh.min().item<std::int64_t>(), 0);
  for (std::int64_t b = 0; b < n; ++b) {
    const auto h0 = oh[b].item<std::int64_t>() - 4, w0 = ow[b].item<std::int64_t>() - 4;
    for (std::int64_t i = 0; i < side; ++i)
      for (std::int64_t j = 0; j < side; ++j) {
        const bool cut = i >= std::max<std::int64_t>(h0, 0) && i <= std::min<std::int64_t>(h0 + 7, side - 1) &&
                         j >= std::max<std::int64_t>(w0, 0) && j <= std::min<std::int64_t>(w0 + 7, side - 1);
        ASSERT_EQ(y[b][2][i][j].item<float>(), cut ? 0.f : 1.f) << "image " << b << " at " << i << "," << j;
      }
  }
  const auto zero_share = (y == 0).to(torch::kFloat).mean().item<float>();
  EXPECT_GT(zero_share, 0.05f);
  EXPECT_LE(zero_share, 0.25f);
}

TEST(DiffAugment, GradientsFlowThroughEveryTransform) {
  for (const auto& policy : std::vector<config::AugmentPolicy>{
           {Augmentation::color}, {Augmentation::translation}, {Augmentation::cutout},
           {Augmentation::color, Augmentation::translation, Augmentation::cutout}}) {
    auto x = images(4, 16).requires_grad_(true);
    const auto y = augmented(x, policy, 2);
    ASSERT_TRUE(y.requires_grad());
    (y * y).sum().backward();
    ASSERT_TRUE(x.grad().defined());
    EXPECT_GT(x.grad().abs().sum().item<float>(), 0.f);
    EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
  }
}

TEST(DiffAugment, FakesFollowTheGlobalSlotOnAnyRank) {
  const auto x = images();
  const config::AugmentPolicy all{Augmentation::color, Augmentation::translation, Augmentation::cutout};
  // Slot 1 of a global batch: accumulation 1 of 2 on one rank, accumulation 0 on rank 1 of 2.
  const DiffAugment one_rank{all, 4, 0, 2, 2, 17, {}};
  const DiffAugment two_ranks{all, 4, 1, 1, 1, 17, {}};
  const MicroStep acc1{MicroStep::Phase::D, 1, 1}, acc0{MicroStep::Phase::D, 1, 0};
  const auto reference = one_rank.fake(x, acc1);
  EXPECT_TRUE(torch::equal(reference, two_ranks.fake(x, acc0)));
  // Everything else in the key changes the draw.
  EXPECT_FALSE(torch::equal(reference, one_rank.fake(x, acc0)));
  EXPECT_FALSE(torch::equal(reference, one_rank.fake(x, {MicroStep::Phase::D, 0, 1})));
  EXPECT_FALSE(torch::equal(reference, one_rank.fake(x, {MicroStep::Phase::G, 1, 1})));
  EXPECT_FALSE(torch::equal(reference, DiffAugment{all, 4, 0, 2, 2, 18, {}}.fake(x, acc1)));
  EXPECT_FALSE(torch::equal(reference, DiffAugment{all, 5, 0, 2, 2, 17, {}}.fake(x, acc1)));
  // Each image of a micro-batch its own draw.
  EXPECT_FALSE(torch::equal(one_rank.fake(x.narrow(0, 0, 1).expand({2, 3, 32, 32}), acc1).select(0, 0),
                            one_rank.fake(x.narrow(0, 0, 1).expand({2, 3, 32, 32}), acc1).select(0, 1)));
}

TEST(DiffAugment, RealImagesFollowTheirDatasetIndexWhateverTheirRow) {
  // The loader interleaves ranks: one rank's rows 0..3 hold indices 10..13, while two ranks hold
  // 10, 12 and 11, 13. An image is augmented the same in either layout, in the same D step.
  const auto x = images(4, 16);
  const config::AugmentPolicy all{Augmentation::color, Augmentation::translation, Augmentation::cutout};
  const DiffAugment one_rank{all, 4, 0, 2, 2, 17, {10, 11, 12, 13}};
  const DiffAugment rank0{all, 4, 0, 1, 1, 17, {10, 12}}, rank1{all, 4, 1, 1, 1, 17, {11, 13}};
  const MicroStep step1{MicroStep::Phase::D, 1, 0};
  const auto together = one_rank.real(x, step1, 0);
  const auto x0 = torch::stack({x[0], x[2]}), x1 = torch::stack({x[1], x[3]});
  const auto a = rank0.real(x0, step1, 0), b = rank1.real(x1, step1, 0);
  EXPECT_TRUE(torch::equal(together[0], a[0]));
  EXPECT_TRUE(torch::equal(together[2], a[1]));
  EXPECT_TRUE(torch::equal(together[1], b[0]));
  EXPECT_TRUE(torch::equal(together[3], b[1]));
  // Rows are taken from first_row on; another D step draws anew.
  EXPECT_TRUE(torch::equal(one_rank.real(x.narrow(0, 2, 2), step1, 2), together.narrow(0, 2, 2)));
  EXPECT_FALSE(torch::equal(one_rank.real(x, {MicroStep::Phase::D, 0, 0}, 0), together));
  EXPECT_THROW(one_rank.real(x, step1, 1), Error);  // rows 1..4 of a batch of 4
}

TEST(DiffAugment, NonImagesAreRefused) {
  EXPECT_THROW(augmented(torch::zeros({4, 3}), {Augmentation::color}, 1), Error);
}

}  // namespace
}  // namespace biggan::train
