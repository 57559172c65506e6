// IS/FID evaluation time: N samples of a 32-px generator (configs/cifar10_ema.yaml) scored with
// Inception v3 (random weights: the cost is the same as with the real ones) against dataset
// moments, on however many ranks mpirun starts. Prints one JSON line from rank 0.
//
//   mpirun -np R biggan_bench_fid [--samples N] [--batch B] [--flavour torchvision|fid] [--threads T]
// Run from the repository root. The target case is --samples 10000 on 1 and 2 ranks.
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "config/module_options.h"
#include "config/config.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "metrics/evaluation.h"
#include "model/networks.h"

int main(int argc, char** argv) {
  using namespace biggan;
  std::int64_t samples = 10000, batch = 50;
  int threads = 1;
  std::string flavour = "torchvision";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--samples") samples = std::stoll(value);
    else if (key == "--batch") batch = std::stoll(value);
    else if (key == "--threads") threads = std::stoi(value);
    else if (key == "--flavour") flavour = value;
    else {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  auto& ctx = distributed::process_context();
  torch::set_num_threads(threads);
  // Random weights shrink activations into denormal floats, which real weights never produce and
  // which cost 10-100x on CPUs: flush them so the timing is the real network's.
  at::globalContext().setFlushDenormal(true);
  torch::manual_seed(0);
  const auto config = config::load({"configs/cifar10_ema.yaml"}, {"model.skip_init=true"}, ctx.world_size());
  model::Generator G(config::generator_options(config));
  G->eval();
  metrics::InceptionV3 net(config::parse_choice<metrics::InceptionFlavour>(flavour, "--flavour"));
  net->eval();
  distributed::Collectives collectives(ctx, torch::kCPU);
  // Reference moments of the right shape (their values do not change the cost).
  metrics::DatasetMoments data;
  data.flavour = net->flavour();
  data.moments.mu = torch::zeros({2048}, torch::kFloat64);
  data.moments.sigma = torch::eye(2048, torch::kFloat64);
  metrics::EvaluationOptions options;
  options.num_images = samples;
  options.batch_size = batch;
  ctx.barrier();
  const auto start = std::chrono::steady_clock::now();
  const auto m = metrics::evaluate_generator(G, net, &data, options, collectives);
  ctx.barrier();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (ctx.is_root())
    std::cout << nlohmann::json{{"bench", "fid"},         {"flavour", flavour},
                                {"ranks", ctx.world_size()}, {"threads_per_rank", threads},
                                {"samples", m.samples},      {"resolution", config.derived.resolution},
                                {"seconds", seconds},        {"images_per_second", m.samples / seconds},
                                {"IS_mean", m.inception_score.mean}, {"FID", m.FID}}
                     .dump()
              << std::endl;
  distributed::shutdown_process_context();
  return 0;
}
