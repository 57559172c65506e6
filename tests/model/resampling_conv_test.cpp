// The low-resolution forms of upsample-then-conv and conv-then-pool against the literal op order,
// in values and in the gradients of input, weight and bias, for both memory orders and for
// non-square sizes (a phase or tap mix-up between rows and columns would show there).
#include <gtest/gtest.h>

#include "../operator_calls.h"
#include "fixture_support.h"
#include "model/resampling_conv.h"

namespace biggan::model {
namespace {

namespace F = torch::nn::functional;

struct Grads {
  torch::Tensor out, x, weight, bias;
};

template <class Fn>
Grads run(Fn fn, const torch::Tensor& x0, const torch::Tensor& w0, const torch::Tensor& b0, const torch::Tensor& g) {
  auto x = x0.detach().clone().requires_grad_(true);
  auto w = w0.detach().clone().requires_grad_(true);
  auto b = b0.detach().clone().requires_grad_(true);
  const torch::Tensor out = fn(x, w, b);
  out.backward(g);
  return {out.detach(), x.grad(), w.grad(), b.grad()};
}

torch::Tensor literal_upsample_conv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  const auto up = F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0})
                                        .mode(torch::kNearest).recompute_scale_factor(false));
  return F::conv2d(up, w, F::Conv2dFuncOptions().bias(b).padding(1));
}

torch::Tensor literal_conv_pool(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return F::avg_pool2d(F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).padding(1)), F::AvgPool2dFuncOptions(2));
}

// Float rounding of sums over 9*C products in another order: at most 1.0e-6 relative measured
// (Xeon Sapphire Rapids, oneDNN's AVX-512 and AVX2 kernels); a wrong tap is off by O(1).
constexpr double kTolerance = 1e-5;

void expect_close(const Grads& got, const Grads& want, const std::string& what) {
  EXPECT_LT(testing::relative_error(got.out, want.out), kTolerance) << what << " output";
  EXPECT_LT(testing::relative_error(got.x, want.x), kTolerance) << what << " input gradient";
  EXPECT_LT(testing::relative_error(got.weight, want.weight), kTolerance) << what << " weight gradient";
  EXPECT_LT(testing::relative_error(got.bias, want.bias), kTolerance) << what << " bias gradient";
}

using ConvFn = torch::Tensor (*)(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&);

// Both memory orders, 24 -> 16 channels, an H x W input and an out_h x out_w result.
void compare_with_literal(ConvFn fused_fn, ConvFn literal_fn, std::int64_t H, std::int64_t W, std::int64_t out_h,
                          std::int64_t out_w) {
  for (const auto format : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
    const auto x = torch::randn({3, 24, H, W}).contiguous(format);
    const auto w = torch::randn({16, 24, 3, 3});
    const auto b = torch::randn({16});
    const auto g = torch::randn({3, 16, out_h, out_w});
    const Grads fused = run(fused_fn, x, w, b, g);
    const Grads literal = run(literal_fn, x, w, b, g);
    const std::string what = format == torch::MemoryFormat::ChannelsLast ? "NHWC" : "NCHW";
    ASSERT_EQ(fused.out.sizes(), literal.out.sizes()) << what;
    expect_close(fused, literal, what);
    // The next convolution gets the layout it was given, without a reorder.
    EXPECT_TRUE(fused.out.is_contiguous(format)) << what;
  }
}

TEST(ResamplingConv, UpsampleConvEqualsTheLiteralOrder) {
  torch::manual_seed(1);
  compare_with_literal(upsample_conv3x3, literal_upsample_conv, 5, 7, 10, 14);
}

TEST(ResamplingConv, ConvPoolEqualsTheLiteralOrder) {
  torch::manual_seed(2);
  compare_with_literal(conv3x3_avg_pool, literal_conv_pool, 6, 10, 3, 5);
}

// An NHWC input gets its phase kernels written NHWC: the convolution copies no weight into that
// layout, forward or backward, where the NCHW kernels cost it one copy each way.
TEST(ResamplingConv, UpsampleConvCopiesNoKernelForAnNhwcInput) {
  torch::manual_seed(4);
  const auto x = torch::randn({2, 8, 5, 5}).contiguous(torch::MemoryFormat::ChannelsLast).requires_grad_(true);
  const auto w = torch::randn({6, 8, 3, 3}).requires_grad_(true);
  const auto b = torch::randn({6}).requires_grad_(true);
  const auto calls = testing::calls_by_caller([&] { upsample_conv3x3(x, w, b).sum().backward(); });
  EXPECT_EQ(testing::calls_of(calls, "aten::contiguous <- aten::_convolution"), 0);
  EXPECT_EQ(testing::calls_of(calls, "aten::contiguous <- aten::convolution_backward"), 0);
  // The literal order's plain 3x3 weight shows that the count sees such copies.
  const auto literal = testing::calls_by_caller([&] { literal_upsample_conv(x, w, b).sum().backward(); });
  EXPECT_GT(testing::calls_of(literal, "aten::contiguous <- aten::_convolution"), 0) << "no copy to find: the count proves nothing";
}

TEST(ResamplingConv, WithoutBias) {
  torch::manual_seed(3);
  const auto x = torch::randn({2, 4, 4, 4});
  const auto w = torch::randn({5, 4, 3, 3});
  torch::NoGradGuard no_grad;
  EXPECT_LT(testing::relative_error(upsample_conv3x3(x, w, {}), literal_upsample_conv(x, w, {})), kTolerance);
  EXPECT_LT(testing::relative_error(conv3x3_avg_pool(x, w, {}), literal_conv_pool(x, w, {})), kTolerance);
}

TEST(ResamplingConv, RefusesShapesItCannotRewrite) {
  const auto x = torch::randn({1, 4, 5, 6});
  try {
    conv3x3_avg_pool(x, torch::randn({2, 4, 3, 3}), {});
    FAIL() << "an odd height was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("even height and width, got 5x6"), std::string::npos) << e.what();
  }
  try {
    upsample_conv3x3(x, torch::randn({2, 4, 1, 1}), {});
    FAIL() << "a 1x1 kernel was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("(out, C, 3, 3) weight, got input [1, 4, 5, 6] and weight [2, 4, 1, 1]"), std::string::npos) << e.what();
  }
  try {
    upsample_conv3x3(x, torch::randn({2, 3, 3, 3}), {});
    FAIL() << "a channel mismatch was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("and weight [2, 3, 3, 3]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace biggan::model
