// Seconds per training iteration (all D steps and accumulations, the G step, the EMA update) on
// synthetic data, printed as JSON: the configurations of ../shared/reference/reference-timings.md
// for a side-by-side with BigGAN-PyTorch, and weak scaling under mpirun (same micro-batch per
// rank).
//
//   [mpirun -np N] biggan_bench_train --case A|B|C [--threads T] [--iterations K] [--warmup W]
//                                     [--diffaug POLICY] [--set KEY=VALUE]...
//   --set: any config override on top of the case (model.channels_last=false measures NCHW)
//   --diffaug color,translation,cutout: the same with DiffAugment on every D input
//   A: CIFAR EMA script (32 px, ch 64, 4 D steps, batch 50, EMA)
//   B: the bs256x8 ImageNet script at 128 px with ch 32, batch 8, 1 D step
//   C: as B with 2 D and 2 G accumulations of 4
#include <chrono>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/allocator.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "train/gan_step.h"

namespace {
using Clock = std::chrono::steady_clock;

// A count from the command line, or an error naming the flag and the value.
int count_argument(const std::string& flag, const std::string& value) {
  std::size_t used = 0;
  int n = -1;
  try {
    n = std::stoi(value, &used);
  } catch (const std::exception&) {
  }
  if (used != value.size() || n < 0) throw std::invalid_argument(flag + ": expected a whole number, got '" + value + "'");
  return n;
}

std::vector<std::string> overrides(const std::string& name, int world) {
  if (name == "A")
    return {"data.dataset=C10", "model.G_ch=64", "model.D_ch=64", "model.G_attn=0", "model.D_attn=0",
            "model.G_init=N02", "model.D_init=N02", "train.batch_size=50", "train.num_D_steps=4", "train.ema=true",
            "model.SN_eps=1e-8"};
  const std::vector<std::string> b{"data.dataset=I128_hdf5", "model.G_ch=32", "model.D_ch=32", "model.G_shared=true",
                                   "model.hier=true", "model.dim_z=120", "model.shared_dim=128", "train.num_D_steps=1",
                                   "train.ema=true", "model.G_attn=64", "model.D_attn=64"};
  auto out = b;
  if (name == "B") {
    out.push_back("train.batch_size=" + std::to_string(8));
  } else if (name == "C") {
    out.push_back("train.batch_size=4");
    out.push_back("train.num_D_accumulations=2");
    out.push_back("train.num_G_accumulations=2");
  } else {
    throw std::runtime_error("unknown case " + name + " (A | B | C)");
  }
  (void)world;
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  std::string name = "B";
  int threads = 1, iterations = 5, warmup = 2;
  std::string diffaug;
  std::vector<std::string> extra;
  const char* usage = "usage: biggan_bench_train --case A|B|C [--threads T] [--iterations K] [--warmup W] "
                      "[--diffaug POLICY] [--set KEY=VALUE]...\n";
  if (argc % 2 == 0) {
    std::cerr << "biggan_bench_train: " << argv[argc - 1] << " has no value\n" << usage;
    return 2;
  }
  try {
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string arg = argv[i];
      if (arg == "--case") name = argv[i + 1];
      else if (arg == "--threads") threads = count_argument(arg, argv[i + 1]);
      else if (arg == "--iterations") iterations = count_argument(arg, argv[i + 1]);
      else if (arg == "--warmup") warmup = count_argument(arg, argv[i + 1]);
      else if (arg == "--diffaug") diffaug = argv[i + 1];
      else if (arg == "--set") extra.push_back(argv[i + 1]);
      else throw std::invalid_argument("unknown argument '" + arg + "'");
    }
    if (threads < 1 || iterations < 1) throw std::invalid_argument("--threads and --iterations must be at least 1");
  } catch (const std::invalid_argument& e) {
    std::cerr << "biggan_bench_train: " << e.what() << "\n" << usage;
    return 2;
  }
  auto& ctx = biggan::distributed::process_context();
  try {
    torch::set_num_threads(threads);
    auto settings = overrides(name, ctx.world_size());
    settings.push_back("train.diffaug=" + diffaug);
    settings.insert(settings.end(), extra.begin(), extra.end());
    const auto config = biggan::config::load({}, settings, ctx.world_size());
    const auto& d = config.derived;
    biggan::distributed::Collectives collectives(ctx, torch::kCPU);
    torch::manual_seed(0);
    biggan::train::Gan gan(config, torch::kCPU);
    auto gen = at::detail::createCPUGenerator(1 + static_cast<std::uint64_t>(ctx.rank()));
    const auto x = torch::rand({d.loader_batch_per_rank, 3, d.resolution, d.resolution}, gen) * 2 - 1;
    const auto y = torch::randint(0, d.n_classes, {d.loader_batch_per_rank}, gen, torch::kInt64);
    const biggan::train::NoiseSource noise = [&](const biggan::train::MicroStep&, std::int64_t n) {
      return std::make_pair(torch::randn({n, d.dim_z}, gen), torch::randint(0, d.n_classes, {n}, gen, torch::kInt64));
    };
    std::vector<std::int64_t> indices(static_cast<std::size_t>(d.loader_batch_per_rank));
    std::iota(indices.begin(), indices.end(), std::int64_t{0});
    const biggan::train::DiffAugment augment{config.train.diffaug, 0, ctx.rank(), d.num_D_accumulations,
                                             d.num_G_accumulations, 0, indices};
    std::vector<double> times;
    for (int i = 0; i < iterations + warmup; ++i) {  // 2 warm-ups by default, as the reference figures
      ctx.barrier();
      const auto t = Clock::now();
      biggan::train::train_iteration(gan, config, x, y, noise, collectives, augment);
      biggan::train::update_ema(gan.G, gan.G_ema, 0.9999, i, 1000);
      biggan::train::average_bn_statistics(*gan.G, collectives);
      if (i >= warmup) times.push_back(std::chrono::duration<double>(Clock::now() - t).count());
    }
    std::sort(times.begin(), times.end());
    nlohmann::json out{{"benchmark", "train_iteration"}, {"case", name}, {"ranks", ctx.world_size()},
                       {"threads_per_rank", threads}, {"iterations", iterations},
                       {"warmup", warmup},
                       {"median_seconds", (times[(times.size() - 1) / 2] + times[times.size() / 2]) / 2},
                       {"min_seconds", times.front()}, {"max_seconds", times.back()},
                       {"global_batch", d.global_batch_size},
                       {"diffaug", diffaug.empty() ? "off" : diffaug},
                       {"overrides", extra},
                       {"channels_last", config.model.channels_last},
                       {"fused_resampling", config.model.fused_resampling},
                       {"allocator", biggan::core::allocator_description()},
                       {"blas", "Debian libtorch + libopenblas0-openmp"}};
    if (ctx.is_root()) std::cout << out.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << "\n";
    ctx.abort(1);
  }
  biggan::distributed::shutdown_process_context();
  return 0;
}
