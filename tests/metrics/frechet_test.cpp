// The Fréchet distance: zero for identical moments, the closed form for commuting covariances,
// finite on rank-deficient ones; and the accuracy count behind the classifier metric.
#include <gtest/gtest.h>

#include "distributed/collectives.h"
#include "distributed/context.h"
#include "metrics/classifier.h"
#include "metrics/frechet.h"

namespace biggan::metrics {
namespace {

Moments moments(const torch::Tensor& mu, const torch::Tensor& sigma) {
  Moments m;
  m.mu = mu.to(torch::kFloat64);
  m.sigma = sigma.to(torch::kFloat64);
  m.count = 100;
  return m;
}

TEST(Frechet, IdenticalMomentsGiveZero) {
  const auto a = torch::randn({50, 8}, torch::kFloat64);
  const auto s = torch::mm(a.t(), a) / 49;
  const auto m = moments(torch::randn({8}), s);
  EXPECT_NEAR(frechet_distance(m, m), 0.0, 1e-9);
}

TEST(Frechet, MatchesTheClosedFormForDiagonalCovariances) {
  const auto a = torch::tensor({1.0, 4.0, 0.25}, torch::kFloat64);
  const auto b = torch::tensor({9.0, 1.0, 0.25}, torch::kFloat64);
  const auto mu = torch::tensor({1.0, -2.0, 0.5}, torch::kFloat64);
  const double expected = mu.pow(2).sum().item<double>() + (a + b - 2 * (a * b).sqrt()).sum().item<double>();
  EXPECT_NEAR(frechet_distance(moments(torch::zeros({3}), torch::diag(a)), moments(mu, torch::diag(b))), expected, 1e-10);
  // Rotating both covariances by the same orthogonal matrix changes nothing.
  auto [q, r] = torch::linalg_qr(torch::randn({3, 3}, torch::kFloat64), "reduced");
  const auto rotate = [&](const torch::Tensor& d) { return torch::mm(torch::mm(q, torch::diag(d)), q.t()); };
  EXPECT_NEAR(frechet_distance(moments(torch::zeros({3}), rotate(a)), moments(torch::mv(q, mu), rotate(b))), expected,
              1e-9);
}

TEST(Frechet, RankDeficientCovariancesStayFinite) {
  const auto v = torch::randn({16, 1}, torch::kFloat64);
  const auto rank_one = torch::mm(v, v.t());
  const auto zero = torch::zeros({16, 16}, torch::kFloat64);
  const double fd = frechet_distance(moments(torch::zeros({16}), rank_one), moments(torch::zeros({16}), zero));
  EXPECT_TRUE(std::isfinite(fd));
  EXPECT_NEAR(fd, rank_one.trace().item<double>(), 1e-9);  // tr(S1) + 0 - 0
  const auto w = torch::randn({16, 3}, torch::kFloat64);
  const double other = frechet_distance(moments(torch::zeros({16}), rank_one),
                                        moments(torch::ones({16}), torch::mm(w, w.t())));
  EXPECT_TRUE(std::isfinite(other));
  EXPECT_GE(other, 0.0);
  const auto root = sqrt_psd(torch::mm(w, w.t()));
  EXPECT_LT((torch::mm(root, root) - torch::mm(w, w.t())).abs().max().item<double>(), 1e-9);
}

TEST(Classifier, CountsArgMaxAgreement) {
  const auto logits = torch::tensor({{0.1, 0.9}, {2.0, -1.0}, {0.3, 0.2}, {0.0, 5.0}});
  EXPECT_EQ(count_correct(logits, torch::tensor({1, 0, 1, 1})), 3);
  EXPECT_THROW(count_correct(logits, torch::tensor({1, 0})), std::exception);
}

TEST(Frechet, MomentsFromFeatures) {
  auto& ctx = distributed::process_context();
  distributed::Collectives collectives(ctx, torch::kCPU);
  const auto f = torch::randn({200, 5}, torch::kFloat64);
  MomentAccumulator acc;
  acc.add(f.narrow(0, 0, 77));
  acc.add(f.narrow(0, 77, 123));
  const auto m = acc.finalize(collectives);
  EXPECT_LT((m.mu - f.mean(0)).abs().max().item<double>(), 1e-12);
  const auto centred = f - f.mean(0);
  EXPECT_LT((m.sigma - torch::mm(centred.t(), centred) / 199).abs().max().item<double>(), 1e-12);
}

}  // namespace
}  // namespace biggan::metrics
