#include "sample/standing_stats.h"

#include "sample/noise.h"

namespace biggan::sample {

void accumulate_standing_stats(model::Generator& G, int batches, std::int64_t batch_size, std::uint64_t seed,
                               double z_var, double truncation) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const auto device = G->parameters().front().device();
  G->train();
  G->begin_standing_stats();
  for (int i = 0; i < batches; ++i) {
    const auto z = sample_z(batch_size, G->dim_z, z_var, truncation, gen).to(device);
    const auto y = torch::randint(0, G->n_classes, {batch_size}, gen, torch::kInt64).to(device);
    G->forward(z, G->shared(y));
  }
  G->end_standing_stats();
  G->eval();
}

void prepare_for_sampling(model::Generator& G, int standing_batches, bool eval_mode, std::int64_t batch_size,
                          std::uint64_t seed, double z_var, double truncation) {
  if (standing_batches > 0)
    accumulate_standing_stats(G, standing_batches, batch_size, seed, z_var, truncation);
  else if (eval_mode)
    G->eval();
  else
    G->train();
}

std::uint64_t standing_seed(int seed, std::int64_t itr) {
  return static_cast<std::uint64_t>(seed) * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(itr) + 1;
}

}  // namespace biggan::sample
