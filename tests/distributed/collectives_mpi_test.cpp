// Collectives across ranks (run under mpirun -np 2; they also pass on 1): reductions, the
// shared decisions of rank 0, the model broadcast at start, gradient averaging, and the
// consistency check that names the tensor and the ranks that diverged.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "distributed/collectives.h"
#include "distributed/context.h"
#include "../mpi_test_main.h"

namespace biggan::distributed {
namespace {

Context& world() { return process_context(); }

TEST(Collectives, ReductionsCombineEveryRank) {
  Collectives c(world(), torch::kCPU);
  const int n = world().world_size(), r = world().rank();
  auto sum = torch::tensor({1.0 * r, 2.0}, torch::kFloat64);
  c.allreduce_(sum);
  EXPECT_DOUBLE_EQ(sum[0].item<double>(), n * (n - 1) / 2.0);
  EXPECT_DOUBLE_EQ(sum[1].item<double>(), 2.0 * n);
  auto max = torch::tensor({static_cast<std::int64_t>(r)}, torch::kInt64), min = max.clone();
  c.allreduce_(max, ReduceOp::max);
  c.allreduce_(min, ReduceOp::min);
  EXPECT_EQ(max.item<std::int64_t>(), n - 1);
  EXPECT_EQ(min.item<std::int64_t>(), 0);
  const auto gathered = c.allgather(torch::full({2}, static_cast<float>(r)));
  ASSERT_EQ(gathered.size(0), n);
  for (int k = 0; k < n; ++k) EXPECT_EQ(gathered[k][1].item<float>(), static_cast<float>(k));
}

TEST(Collectives, RankZerosDecisionReachesEveryRank) {
  const std::string chosen = world().broadcast(world().is_root() ? "checkpoints/itr00001200" : "rank-local view");
  EXPECT_EQ(chosen, "checkpoints/itr00001200");
  EXPECT_EQ(world().broadcast(world().is_root() ? std::string() : "not empty"), "");
}

TEST(Collectives, GradientsAreAveraged) {
  Collectives c(world(), torch::kCPU);
  const int n = world().world_size(), r = world().rank();
  std::vector<torch::Tensor> grads{torch::full({3}, static_cast<double>(r), torch::kFloat64),
                                   torch::full({2, 2}, 1.0 + r, torch::kFloat64)};
  average_across_ranks(grads, c, /*bucket_bytes=*/16);  // several buckets
  EXPECT_DOUBLE_EQ(grads[0][0].item<double>(), (n - 1) / 2.0);
  EXPECT_DOUBLE_EQ(grads[1][1][1].item<double>(), 1.0 + (n - 1) / 2.0);
}

TEST(Collectives, DifferentiableSumSumsTheGradientToo) {
  Collectives c(world(), torch::kCPU);
  const int n = world().world_size();
  auto x = torch::full({2}, 1.0 + world().rank(), torch::dtype(torch::kFloat64).requires_grad(true));
  const auto total = differentiable_allreduce_sum(x, c);
  EXPECT_DOUBLE_EQ(total[0].item<double>(), n + n * (n - 1) / 2.0);
  (total * total).sum().backward();
  // d/dx_r of sum_k (sum_j x_j)^2 over ranks: every rank's 2 * total, summed over ranks.
  EXPECT_DOUBLE_EQ(x.grad()[0].item<double>(), 2.0 * n * total[0].item<double>());
}

TEST(Collectives, BroadcastStateStartsEveryRankFromRankZerosModel) {
  Collectives c(world(), torch::kCPU);
  torch::manual_seed(100 + world().rank());  // a different model on every rank
  torch::nn::Linear net(4, 3);
  broadcast_state(*net, c);
  torch::manual_seed(100);
  torch::nn::Linear rank0(4, 3);
  EXPECT_TRUE(torch::equal(net->weight, rank0->weight));
  EXPECT_TRUE(divergent_tensors(*net, c).empty());
}

TEST(Collectives, DivergenceNamesTheTensorAndTheRanks) {
  Collectives c(world(), torch::kCPU);
  if (world().world_size() < 2) GTEST_SKIP() << "needs mpirun -np 2";
  torch::manual_seed(3);
  torch::nn::Linear net(4, 3);
  if (world().rank() == 1) {
    torch::NoGradGuard no_grad;
    net->bias[0].add_(1e-7);  // one element, far below any printed precision
  }
  const auto found = divergent_tensors(*net, c);
  ASSERT_EQ(found.size(), 1u);  // the same answer on every rank
  EXPECT_EQ(found[0].tensor, "bias");
  EXPECT_EQ(found[0].ranks, std::vector<int>{1});
}

}  // namespace
}  // namespace biggan::distributed

int main(int argc, char** argv) { return biggan::testing::run_mpi_tests(argc, argv); }
