// Loader throughput, printed as JSON: images/s per rank for the in-memory and streaming modes,
// and the share of a (simulated) training step spent waiting for data when streaming.
//
//   [mpirun -np N] biggan_bench_loader --file DATA.hdf5 [--batch 64] [--batches 200] [--step-ms 50]
// Make test files with prepare-data, e.g. Fashion-MNIST at 32 and 128 px:
//   biggan prepare-data --source fmnist --split test --output /tmp/fm32.hdf5
//   biggan prepare-data --source fmnist --split test --resolution 128 --output /tmp/fm128.hdf5
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "data/loader.h"
#include "distributed/context.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  std::string file;
  std::int64_t batch = 64, batches = 200;
  int step_ms = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--file") file = argv[i + 1];
    else if (arg == "--batch") batch = std::stoll(argv[i + 1]);
    else if (arg == "--batches") batches = std::stoll(argv[i + 1]);
    else if (arg == "--step-ms") step_ms = std::stoi(argv[i + 1]);
    else {
      std::cerr << "unknown argument " << arg << "\n";
      return 2;
    }
  }
  if (file.empty()) {
    std::cerr << "usage: biggan_bench_loader --file DATA.hdf5 [--batch 64] [--batches 200] [--step-ms 50]\n";
    return 2;
  }
  auto& ctx = biggan::distributed::process_context();
  nlohmann::json report;
  try {
    const auto header = biggan::data::inspect_dataset(file);
    biggan::data::LoaderOptions o;
    o.path = file;
    o.batch_per_rank = batch;
    o.resolution = header.resolution;
    o.n_classes = header.n_classes > 0 ? header.n_classes : 1000;
    report = {{"benchmark", "loader"}, {"file", file}, {"resolution", header.resolution}, {"images", header.size},
              {"ranks", ctx.world_size()}, {"batch_per_rank", batch}, {"batches", batches}};
    for (const bool in_mem : {true, false}) {
      o.load_in_mem = in_mem;
      const auto t_open = Clock::now();
      biggan::data::Loader loader(o, ctx.comm());
      const double open_s = seconds_since(t_open);
      loader.next();  // first batch: thread start, first read
      const auto t0 = Clock::now();
      for (std::int64_t i = 0; i < batches; ++i) loader.next();
      const double s = seconds_since(t0);
      nlohmann::json mode{{"open_seconds", open_s}, {"images_per_second_per_rank", batches * batch / s}};
      if (!in_mem) {
        // A training step of step_ms: how much of it is spent waiting for the next batch.
        const double wait_before = loader.wait_seconds();
        const auto t1 = Clock::now();
        for (std::int64_t i = 0; i < 50; ++i) {
          loader.next();
          std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
        }
        mode["simulated_step_ms"] = step_ms;
        mode["wait_fraction"] = (loader.wait_seconds() - wait_before) / seconds_since(t1);
      }
      report[in_mem ? "in_memory" : "streaming"] = mode;
    }
  } catch (const std::exception& e) {
    std::cerr << "rank " << ctx.rank() << ": " << e.what() << "\n";
    ctx.abort(1);
  }
  if (ctx.is_root()) std::cout << report.dump(2) << std::endl;
  biggan::distributed::shutdown_process_context();
  return 0;
}
