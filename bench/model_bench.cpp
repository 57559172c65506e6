// Forward and forward+backward timings of G and D, printed as JSON, so later changes (and GPU
// runs) have a baseline to compare with.
//
//   biggan_bench_model [--case CONFIG.yaml:BATCH[:G_ch]]... [--iterations N] [--threads T]
// Defaults: configs/cifar10_ema.yaml at 32 px (batch 16) and configs/biggan128_bs256x8.yaml at
// 128 px (batch 4, full ch96 width). Run from the repository root.
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/blas.h"
#include "config/module_options.h"
#include "config/config.h"
#include "model/networks.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Case {
  std::string config;
  int batch = 4;
  int channels = 0;  // 0: the config's own G_ch/D_ch
};

Case parse_case(const std::string& text) {
  Case c;
  const auto first = text.find(':');
  c.config = text.substr(0, first);
  if (first != std::string::npos) {
    const auto second = text.find(':', first + 1);
    c.batch = std::stoi(text.substr(first + 1, second - first - 1));
    if (second != std::string::npos) c.channels = std::stoi(text.substr(second + 1));
  }
  return c;
}

template <typename F>
double median_ms(int iterations, const torch::Device& device, F&& body) {
  body();  // warm-up: allocator, oneDNN/cuDNN primitive selection
  std::vector<double> times;
  for (int i = 0; i < iterations; ++i) {
    if (device.is_cuda()) torch::cuda::synchronize();
    const auto start = Clock::now();
    body();
    if (device.is_cuda()) torch::cuda::synchronize();
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

nlohmann::json run_case(const Case& bench, int iterations, const torch::Device& device) {
  std::vector<std::string> overrides{"model.skip_init=true"};
  if (bench.channels > 0) {
    overrides.push_back("model.G_ch=" + std::to_string(bench.channels));
    overrides.push_back("model.D_ch=" + std::to_string(bench.channels));
  }
  const auto config = biggan::config::load({bench.config}, overrides, 1);
  const auto& d = config.derived;
  torch::manual_seed(0);
  biggan::model::Generator G(biggan::config::generator_options(config));
  biggan::model::Discriminator D(biggan::config::discriminator_options(config));
  G->to(device);
  D->to(device);
  G->train();
  D->train();
  const auto options = torch::TensorOptions().device(device);
  const auto z = torch::randn({bench.batch, d.dim_z}, options);
  const auto y = torch::randint(0, d.n_classes, {bench.batch}, options.dtype(torch::kInt64));
  const auto x = torch::rand({bench.batch, 3, d.resolution, d.resolution}, options) * 2 - 1;

  nlohmann::json out;
  out["config"] = bench.config;
  out["resolution"] = d.resolution;
  out["batch"] = bench.batch;
  out["G_ch"] = config.model.G_ch;
  out["D_ch"] = config.model.D_ch;
  out["G_params"] = biggan::model::parameter_count(*G);
  out["D_params"] = biggan::model::parameter_count(*D);
  out["G_forward_ms"] = median_ms(iterations, device, [&] {
    torch::NoGradGuard no_grad;
    G->forward(z, G->shared(y));
  });
  out["G_forward_backward_ms"] = median_ms(iterations, device, [&] {
    G->zero_grad();
    G->forward(z, G->shared(y)).mean().backward();
  });
  out["D_forward_backward_ms"] = median_ms(iterations, device, [&] {
    D->zero_grad();
    D->forward(x, y).mean().backward();
  });
  // One G step as the trainer does it: G forward, D forward, backward through both.
  out["G_step_ms"] = median_ms(iterations, device, [&] {
    G->zero_grad();
    D->zero_grad();
    (-D->forward(G->forward(z, G->shared(y)), y).mean()).backward();
  });
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  biggan::core::use_blas_kernels_for_this_cpu(argv);  // as the biggan executable does
  std::vector<Case> cases;
  int iterations = 5;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "usage: biggan_bench_model [--case CONFIG:BATCH[:CH]]... [--iterations N] [--threads T]\n";
      return 2;
    }
    if (arg == "--case") cases.push_back(parse_case(argv[++i]));
    else if (arg == "--iterations") iterations = std::stoi(argv[++i]);
    else if (arg == "--threads") threads = std::stoi(argv[++i]);
    else {
      std::cerr << "unknown argument " << arg << "\n";
      return 2;
    }
  }
  if (cases.empty()) cases = {{"configs/cifar10_ema.yaml", 16, 0}, {"configs/biggan128_bs256x8.yaml", 4, 0}};
  if (threads > 0) torch::set_num_threads(threads);
  const torch::Device device = torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  nlohmann::json report;
  report["benchmark"] = "model_forward_backward";
  report["device"] = device.is_cuda() ? "cuda" : "cpu";
  report["threads"] = torch::get_num_threads();
  report["iterations"] = iterations;
  report["statistic"] = "median";
  report["cases"] = nlohmann::json::array();
  try {
    for (const auto& c : cases) report["cases"].push_back(run_case(c, iterations, device));
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << "\n";
    return 1;
  }
  std::cout << report.dump(2) << std::endl;
  return 0;
}
