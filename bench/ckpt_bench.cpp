// Checkpoint costs for a real model, printed as JSON: the synchronous save time, the stall an
// asynchronous save costs training (host copy + handing over) for the first save of a run
// (fresh host memory) and for every later one (the previous save's buffers reused, as the
// trainer does), and the load time.
//
//   biggan_bench_ckpt [--config configs/biggan128_bs256x8.yaml] [--dir /tmp/biggan_ckpt_bench] [--threads N]
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
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--config") config_path = argv[i + 1];
    else if (arg == "--dir") dir = argv[i + 1];
    else if (arg == "--threads") threads = std::stoi(argv[i + 1]);
    else {
      std::cerr << "usage: biggan_bench_ckpt [--config FILE] [--dir DIR] [--threads N]\n";
      return 2;
    }
  }
  try {
    std::filesystem::remove_all(dir);
    const auto config = biggan::config::load({config_path}, {"model.skip_init=true"}, 1);
    // The trainer's thread count (dist.intra_op_threads) unless given.
    torch::set_num_threads(threads > 0 ? threads : config.dist.intra_op_threads);
    biggan::train::Gan gan(config, torch::kCPU);
    // Optimizer state as after a step: Adam creates it lazily.
    for (auto* opt : {gan.G_optim.get(), gan.D_optim.get()}) {
      for (auto& p : opt->param_groups()[0].params()) p.mutable_grad() = torch::zeros_like(p);
      opt->step();
    }
    // What the trainer's save_checkpoint does: host copies, into the spare buffers when given.
    const auto contents = [&](std::int64_t itr, biggan::ckpt::Contents spare) {
      biggan::ckpt::Contents c;
      c.state.itr = itr;
      c.state.world_size = 1;
      c.state.global_batch_size = config.derived.global_batch_size;
      c.G = biggan::ckpt::host_copy(*gan.G, std::move(spare.G));
      c.D = biggan::ckpt::host_copy(*gan.D, std::move(spare.D));
      if (gan.G_ema) c.G_ema = biggan::ckpt::host_copy(*gan.G_ema, std::move(spare.G_ema));
      c.G_optim = biggan::ckpt::adam_state(*gan.G_optim, std::move(spare.G_optim));
      c.D_optim = biggan::ckpt::adam_state(*gan.D_optim, std::move(spare.D_optim));
      c.rng = torch::zeros({1, 5056}, torch::kUInt8);
      return c;
    };
    nlohmann::json out{{"benchmark", "checkpoint"}, {"config", config_path}, {"threads", torch::get_num_threads()},
                       {"G_params", biggan::model::parameter_count(*gan.G)},
                       {"D_params", biggan::model::parameter_count(*gan.D)}};
    {
      biggan::ckpt::Writer sync(dir, {3, 0, 0}, false);
      auto t = Clock::now();
      sync.save(contents(1, {}), biggan::ckpt::Slots{0, -1});
      out["sync_save_seconds"] = since(t);
    }
    {
      biggan::ckpt::Writer async(dir, {3, 0, 0}, true);
      // First save of a run: fresh host memory.
      auto t = Clock::now();
      async.save(contents(2, async.reclaim()), biggan::ckpt::Slots{1, -1});
      out["async_first_stall_seconds"] = since(t);
      async.wait();
      out["async_background_seconds"] = since(t);
      // Every later save: the previous save's buffers (reclaim waits for nothing here, the save
      // having finished, as it has in training when save_every is longer than a save).
      auto spare = async.reclaim();
      t = Clock::now();
      async.save(contents(3, std::move(spare)), biggan::ckpt::Slots{2, -1});
      out["async_stall_seconds"] = since(t);
      async.wait();
    }
    out["stall_fraction_of_sync_save"] = out["async_stall_seconds"].get<double>() / out["sync_save_seconds"].get<double>();
    out["first_stall_fraction_of_sync_save"] =
        out["async_first_stall_seconds"].get<double>() / out["sync_save_seconds"].get<double>();
    std::uintmax_t bytes = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir + "/itr00000003")) bytes += f.file_size();
    out["checkpoint_bytes"] = bytes;
    auto t = Clock::now();
    const auto loaded = biggan::ckpt::load(dir + "/itr00000003");
    out["load_seconds"] = since(t);
    std::cout << out.dump(2) << std::endl;
    std::filesystem::remove_all(dir);
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
