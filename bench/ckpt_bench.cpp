// Checkpoint costs for a real model, printed as JSON: the synchronous save time, the stall an
// asynchronous save costs training (host copy + handing over), and the load time.
//
//   biggan_bench_ckpt [--config configs/biggan128_bs256x8.yaml] [--dir /tmp/biggan_ckpt_bench]
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ckpt/checkpoint.h"
#include "config/config.h"
#include "model/networks.h"
#include "train/gan_step.h"

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "configs/biggan128_bs256x8.yaml", dir = "/tmp/biggan_ckpt_bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--config") config_path = argv[i + 1];
    else if (arg == "--dir") dir = argv[i + 1];
    else {
      std::cerr << "usage: biggan_bench_ckpt [--config FILE] [--dir DIR]\n";
      return 2;
    }
  }
  try {
    std::filesystem::remove_all(dir);
    const auto config = biggan::config::load({config_path}, {"model.skip_init=true"}, 1);
    biggan::train::Gan gan(config, torch::kCPU);
    // Optimizer state as after a step: Adam creates it lazily.
    for (auto* opt : {gan.G_optim.get(), gan.D_optim.get()}) {
      for (auto& p : opt->param_groups()[0].params()) p.mutable_grad() = torch::zeros_like(p);
      opt->step();
    }
    const auto contents = [&](std::int64_t itr) {
      biggan::ckpt::Contents c;
      c.state.itr = itr;
      c.state.world_size = 1;
      c.state.global_batch_size = config.derived.global_batch_size;
      c.G = biggan::ckpt::host_copy(*gan.G);
      c.D = biggan::ckpt::host_copy(*gan.D);
      if (gan.G_ema) c.G_ema = biggan::ckpt::host_copy(*gan.G_ema);
      c.G_optim = biggan::ckpt::adam_state(*gan.G_optim);
      c.D_optim = biggan::ckpt::adam_state(*gan.D_optim);
      c.rng = torch::zeros({1, 5056}, torch::kUInt8);
      return c;
    };
    nlohmann::json out{{"benchmark", "checkpoint"}, {"config", config_path},
                       {"G_params", biggan::model::parameter_count(*gan.G)},
                       {"D_params", biggan::model::parameter_count(*gan.D)}};
    {
      biggan::ckpt::Writer sync(dir, {2, 0, 0}, false);
      auto t = Clock::now();
      sync.save(contents(1), biggan::ckpt::Slots{0, -1});
      out["sync_save_seconds"] = since(t);
    }
    {
      biggan::ckpt::Writer async(dir, {2, 0, 0}, true);
      auto t = Clock::now();
      async.save(contents(2), biggan::ckpt::Slots{1, -1});  // host copy + thread start: what training waits for
      out["async_stall_seconds"] = since(t);
      t = Clock::now();
      async.wait();
      out["async_background_seconds"] = since(t) + out["async_stall_seconds"].get<double>();
    }
    out["stall_fraction_of_sync_save"] = out["async_stall_seconds"].get<double>() / out["sync_save_seconds"].get<double>();
    std::uintmax_t bytes = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir + "/itr00000002")) bytes += f.file_size();
    out["checkpoint_bytes"] = bytes;
    auto t = Clock::now();
    const auto loaded = biggan::ckpt::load(dir + "/itr00000002");
    out["load_seconds"] = since(t);
    std::cout << out.dump(2) << std::endl;
    std::filesystem::remove_all(dir);
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
