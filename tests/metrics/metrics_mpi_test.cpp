// Metrics across ranks (run under mpirun -np 2): Fréchet moments, the Inception Score and the
// classifier metric computed from shards equal the single-process numbers.
#include <gtest/gtest.h>

#include "data/index_order.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "metrics/classifier.h"
#include "metrics/frechet.h"
#include "metrics/inception_score.h"
#include "model/networks.h"
#include "../mpi_test_main.h"

namespace biggan::metrics {
namespace {

model::Generator tiny_generator() {
  model::GeneratorOptions o;
  o.resolution = 32;
  o.n_classes = 10;
  o.ch = 8;
  o.shared = true;
  o.shared_dim = 16;
  o.hier = true;
  o.num_slots = 4;
  o.z_chunk_size = 8;
  o.dim_z = 32;
  return model::Generator(o);
}

TEST(MetricsMpi, DistributedMomentsEqualSingleProcessMoments) {
  auto& world = distributed::process_context();
  distributed::Collectives collectives(world, torch::kCPU);
  distributed::Context self(MPI_COMM_SELF);
  distributed::Collectives alone(self, torch::kCPU);
  const auto f = torch::randn({300, 6}, at::detail::createCPUGenerator(9)).to(torch::kFloat64);
  MomentAccumulator shared, whole;
  const auto [first, last] = data::IndexOrder::shard(300, world.rank(), world.world_size());
  shared.add(f.narrow(0, first, last - first));
  whole.add(f);
  const auto a = shared.finalize(collectives), b = whole.finalize(alone);
  EXPECT_EQ(a.count, 300);
  EXPECT_LT((a.mu - b.mu).abs().max().item<double>(), 1e-12);
  EXPECT_LT((a.sigma - b.sigma).abs().max().item<double>(), 1e-12);
}

TEST(MetricsMpi, DistributedInceptionScoreEqualsSingleProcess) {
  auto& world = distributed::process_context();
  distributed::Collectives collectives(world, torch::kCPU);
  distributed::Context self(MPI_COMM_SELF);
  distributed::Collectives alone(self, torch::kCPU);
  const auto logits = torch::randn({253, 37}, at::detail::createCPUGenerator(4)) * 3;
  const auto [first, last] = data::IndexOrder::shard(253, world.rank(), world.world_size());
  InceptionScoreAccumulator shared(253, 10), whole(253, 10);
  // Two uneven pieces per rank, offsets in the global order.
  const std::int64_t mid = first + (last - first) / 3;
  shared.add(logits.narrow(0, first, mid - first), first);
  shared.add(logits.narrow(0, mid, last - mid), mid);
  whole.add(logits, 0);
  const auto a = shared.finalize(collectives), b = whole.finalize(alone);
  const auto reference = inception_score(logits, 10);
  EXPECT_NEAR(a.mean, reference.mean, 1e-12 * reference.mean);
  EXPECT_NEAR(a.std, reference.std, 1e-10);
  EXPECT_NEAR(b.mean, reference.mean, 1e-12 * reference.mean);
}

// The classifier metric of one generator on 2 ranks equals its metric in one process: the
// samples are keyed by their index, not drawn from per-rank streams. Batch size 1, so that
// every sample's computation is the same too; only the order of the sums differs.
TEST(MetricsMpi, ClassifierMetricOfOneGeneratorIsTheSameOnOneAndTwoRanks) {
  auto& world = distributed::process_context();
  if (world.world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  distributed::Collectives collectives(world, torch::kCPU);
  distributed::Context self(MPI_COMM_SELF);
  distributed::Collectives alone(self, torch::kCPU);
  torch::manual_seed(0);
  model::Generator G(tiny_generator());
  G->eval();
  ClassifierFile classifier;
  torch::manual_seed(1);
  classifier.net = Classifier(10, 32);
  classifier.net->eval();
  MomentAccumulator real;
  real.add(torch::randn({300, 256}, at::detail::createCPUGenerator(2)).relu());
  classifier.real = real.finalize(alone);
  const auto shared = score_generator(G, classifier, 37, 1, 5, collectives);
  const auto whole = score_generator(G, classifier, 37, 1, 5, alone);
  EXPECT_EQ(shared.accuracy, whole.accuracy);
  EXPECT_NEAR(shared.frechet, whole.frechet, 1e-9 * whole.frechet);
  // Another seed gives other samples: the comparison above can fail.
  const auto other = score_generator(G, classifier, 37, 1, 6, alone);
  EXPECT_GT(std::abs(other.frechet - whole.frechet), 1e-6 * whole.frechet);
}

}  // namespace
}  // namespace biggan::metrics

int main(int argc, char** argv) { return biggan::testing::run_mpi_tests(argc, argv); }
