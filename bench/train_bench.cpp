// Seconds per training iteration (all D steps and accumulations, the G step, the EMA update) on
// synthetic data, printed as JSON: the configurations of ../shared/reference/reference-timings.md
// for a side-by-side with BigGAN-PyTorch, and weak scaling under mpirun (same micro-batch per
// rank).
//
//   [mpirun -np N] biggan_bench_train --case A|B|C|I128|I128deep [--threads T] [--iterations K]
//                                     [--warmup W] [--batch B] [--device cpu|cuda]
//                                     [--peak-tflops P] [--diffaug POLICY] [--profile N]
//                                     [--cudnn-benchmark 0|1] [--adam foreach|per_tensor]
//                                     [--set KEY=VALUE]...
//   --set: any config override on top of the case (model.channels_last=false forces NCHW, true NHWC)
//   --diffaug color,translation,cutout: the same with DiffAugment on every D input
//   --batch: the micro-batch (default: the case's; 64 for I128 and I128deep)
//   --device cuda: the rank's GPU (distributed::rank_device); each iteration ends synchronised
//   --cudnn-benchmark 0: cuDNN's autotuner off (training turns it on for CUDA, as BigGAN-PyTorch)
//   --adam per_tensor: LibTorch's Adam step, one set of kernels per parameter, instead of the
//                      multi-tensor step training uses (optim/adam.h)
//   --peak-tflops: the device's peak for the precision used, to report model FLOPs utilisation
//   --profile N: the N operators with the most self time per timed iteration (LibTorch's legacy
//                profiler on the calling thread: on the CPU, forward and backward both run there),
//                and the N (operator, caller) pairs with the most calls (profile_callers)
//   A: CIFAR EMA script (32 px, ch 64, 4 D steps, batch 50, EMA)
//   B: the bs256x8 ImageNet script at 128 px with ch 32, batch 8, 1 D step
//   C: as B with 2 D and 2 G accumulations of 4
//   I128: configs/biggan128_bs256x8.yaml (ch 96) without accumulation, 1 D step: the GPU case
//   I128deep: configs/biggandeep128_bs256x8.yaml (ch 128, depth 2) without accumulation
// Peak memory (CUDA caching allocator's allocated bytes on a GPU, RSS on the CPU): peak_memory_GiB
// over the whole run, timed_peak_memory_GiB over the timed iterations only (null where it cannot
// be restarted).
// The FLOPs reported are model/flops.h's count of one iteration: "model" in BigGAN-PyTorch's op
// order (the basis of the utilisation figure), "executed" what runs with fused resampling.
#include <sys/resource.h>

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <cmath>
#include <limits>
#include <iostream>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config/module_options.h"
#include "core/allocator.h"
#include "core/blas.h"
#include "core/cpu_isa.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "model/flops.h"
#include "train/gan_step.h"

#ifdef BIGGAN_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {
using Clock = std::chrono::steady_clock;

// All of `value` read as a number, or NaN when anything is left over or nothing parses.
double number_or_nan(const std::string& value) {
  std::size_t used = 0;
  double x = std::numeric_limits<double>::quiet_NaN();
  try {
    x = std::stod(value, &used);
  } catch (const std::exception&) {
  }
  return used == value.size() ? x : std::numeric_limits<double>::quiet_NaN();
}

// A count from the command line, or an error naming the flag and the value.
int count_argument(const std::string& flag, const std::string& value) {
  const double x = number_or_nan(value);
  if (!(x >= 0 && x == std::floor(x) && x <= std::numeric_limits<int>::max()))
    throw std::invalid_argument(flag + ": expected a whole number, got '" + value + "'");
  return static_cast<int>(x);
}

double positive_number(const std::string& flag, const std::string& value) {
  const double x = number_or_nan(value);
  if (!(x > 0)) throw std::invalid_argument(flag + ": expected a positive number, got '" + value + "'");
  return x;
}

struct Case {
  std::vector<std::string> files;
  std::vector<std::string> overrides;
};

Case bench_case(const std::string& name, int batch) {
  const std::string b = batch > 0 ? std::to_string(batch) : "";
  if (name == "A")
    return {{},
            {"data.dataset=C10", "model.G_ch=64", "model.D_ch=64", "model.G_attn=0", "model.D_attn=0",
             "model.G_init=N02", "model.D_init=N02", "train.batch_size=" + (b.empty() ? "50" : b), "train.num_D_steps=4",
             "train.ema=true", "model.SN_eps=1e-8"}};
  if (name == "I128" || name == "I128deep") {
    const std::string file = name == "I128" ? "biggan128_bs256x8.yaml" : "biggandeep128_bs256x8.yaml";
    return {{std::string(BIGGAN_SOURCE_DIR) + "/configs/" + file},
            {"train.global_batch_size=0", "train.batch_size=" + (b.empty() ? "64" : b), "train.num_D_accumulations=1",
             "train.num_G_accumulations=1", "train.num_D_steps=1"}};
  }
  std::vector<std::string> o{"data.dataset=I128_hdf5", "model.G_ch=32", "model.D_ch=32", "model.G_shared=true",
                             "model.hier=true", "model.dim_z=120", "model.shared_dim=128", "train.num_D_steps=1",
                             "train.ema=true", "model.G_attn=64", "model.D_attn=64"};
  if (name == "B") {
    o.push_back("train.batch_size=" + (b.empty() ? "8" : b));
  } else if (name == "C") {
    o.push_back("train.batch_size=" + (b.empty() ? "4" : b));
    o.push_back("train.num_D_accumulations=2");
    o.push_back("train.num_G_accumulations=2");
  } else {
    throw std::invalid_argument("unknown case '" + name + "' (A | B | C | I128 | I128deep)");
  }
  return {{}, o};
}

// Peak memory of the run: the CUDA caching allocator's peak on a GPU, the peak RSS on the CPU.
double peak_memory_GiB(const torch::Device& device) {
#ifdef BIGGAN_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1 << 30);
  }
#endif
  (void)device;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024 / (1 << 30);
}

// Starts the peak over from the memory in use now, so that the timed iterations' peak leaves out
// what only the warm-ups allocate (on a GPU, cuDNN's autotuner tries each convolution's
// algorithms with their workspaces in the first iteration). On the CPU, Linux resets the peak
// RSS on writing 5 to clear_refs; false where that is refused.
bool restart_peak_memory(const torch::Device& device) {
#ifdef BIGGAN_WITH_CUDA
  if (device.is_cuda()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
    return true;
  }
#endif
  (void)device;
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5" << std::flush;
  return static_cast<bool>(clear_refs);
}

namespace profiler = torch::autograd::profiler;

// Self time (an operator's time less that of the operators it called) and calls per operator,
// summed over the recorded events. Ranges nest per thread, so a stack pairs each pop with its push.
struct OperatorTime {
  double self_us = 0;
  std::int64_t calls = 0;
  double longest_self_us = 0;  // the longest single call: on a GPU, the iteration's wait for it

  void add(const OperatorTime& other) {
    self_us += other.self_us;
    calls += other.calls;
    longest_self_us = std::max(longest_self_us, other.longest_self_us);
  }
};

// What the profiler recorded: each operator's time and calls, and the calls of each operator
// from each caller (the enclosing operator, or our code at the top level).
struct Profile {
  std::map<std::string, OperatorTime> operators;
  std::map<std::pair<std::string, std::string>, std::int64_t> caller_calls;

  void add(const profiler::thread_event_lists& lists);
};

void Profile::add(const profiler::thread_event_lists& lists) {
  for (const auto& list : lists) {
    struct Open {
      const profiler::LegacyEvent* push;
      double children_us;
    };
    std::vector<Open> stack;
    for (const auto& e : list) {
      if (e.kind() == profiler::EventKind::PushRange) {
        stack.push_back({&e, 0});
      } else if (e.kind() == profiler::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double total = open.push->cpuElapsedUs(e);
        const double self_us = total - open.children_us;
        operators[open.push->name()].add(OperatorTime{self_us, 1, self_us});
        ++caller_calls[{open.push->name(), stack.empty() ? "" : stack.back().push->name()}];
        if (!stack.empty()) stack.back().children_us += total;
      }
    }
  }
}

// The `top` (operator, caller) pairs with the most calls: where a host-bound step's dispatches
// come from (a caller of "" is our code).
nlohmann::json top_callers(const Profile& profile, int top, int iterations) {
  std::vector<std::pair<std::pair<std::string, std::string>, std::int64_t>> sorted(profile.caller_calls.begin(),
                                                                                   profile.caller_calls.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  nlohmann::json out = nlohmann::json::array();
  for (int i = 0; i < top && i < static_cast<int>(sorted.size()); ++i) {
    const auto& [key, calls] = sorted[static_cast<std::size_t>(i)];
    out.push_back({{"operator", key.first}, {"caller", key.second}, {"calls_per_iteration", calls / iterations}});
  }
  return out;
}

nlohmann::json top_operators(const std::map<std::string, OperatorTime>& by_name, int top, int iterations) {
  std::vector<std::pair<std::string, OperatorTime>> sorted(by_name.begin(), by_name.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  double all_us = 0;
  for (const auto& [name, t] : sorted) all_us += t.self_us;
  nlohmann::json out = nlohmann::json::array();
  for (int i = 0; i < top && i < static_cast<int>(sorted.size()); ++i) {
    const auto& [name, t] = sorted[static_cast<std::size_t>(i)];
    out.push_back({{"operator", name}, {"self_ms_per_iteration", t.self_us / 1000 / iterations},
                   {"share", all_us > 0 ? t.self_us / all_us : 0}, {"calls_per_iteration", t.calls / iterations}});
  }
  return out;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}
}  // namespace

int main(int argc, char** argv) {
  biggan::core::use_blas_kernels_for_this_cpu(argv);  // as the biggan executable does
  std::string name = "B", device_name = "cpu";
  int threads = 1, iterations = 5, warmup = 2, batch = 0, profile_top = 0, cudnn_benchmark = 1;
  double peak_tflops = 0;
  std::string diffaug, adam = "foreach";
  std::vector<std::string> extra;
  const char* usage = "usage: biggan_bench_train --case A|B|C|I128|I128deep [--threads T] [--iterations K] "
                      "[--warmup W] [--batch B] [--device cpu|cuda] [--peak-tflops P] [--diffaug POLICY] "
                      "[--profile N] [--cudnn-benchmark 0|1] [--adam foreach|per_tensor] [--set KEY=VALUE]...\n";
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
      else if (arg == "--batch") batch = count_argument(arg, argv[i + 1]);
      else if (arg == "--device") device_name = argv[i + 1];
      else if (arg == "--peak-tflops") peak_tflops = positive_number(arg, argv[i + 1]);
      else if (arg == "--diffaug") diffaug = argv[i + 1];
      else if (arg == "--set") extra.push_back(argv[i + 1]);
      else if (arg == "--profile") profile_top = count_argument(arg, argv[i + 1]);
      else if (arg == "--cudnn-benchmark") cudnn_benchmark = count_argument(arg, argv[i + 1]);
      else if (arg == "--adam") adam = argv[i + 1];
      else throw std::invalid_argument("unknown argument '" + arg + "'");
    }
    if (threads < 1 || iterations < 1) throw std::invalid_argument("--threads and --iterations must be at least 1");
    if (cudnn_benchmark > 1) throw std::invalid_argument("--cudnn-benchmark: expected 0 or 1, got " + std::to_string(cudnn_benchmark));
    if (adam != "foreach" && adam != "per_tensor")
      throw std::invalid_argument("--adam: expected foreach or per_tensor, got '" + adam + "'");
    if (device_name != "cpu" && device_name != "cuda")
      throw std::invalid_argument("--device: expected cpu or cuda, got '" + device_name + "'");
    bench_case(name, batch);  // an unknown case is a usage error
  } catch (const std::invalid_argument& e) {
    std::cerr << "biggan_bench_train: " << e.what() << "\n" << usage;
    return 2;
  }
  auto& ctx = biggan::distributed::process_context();
  try {
    torch::set_num_threads(threads);
    const torch::Device device = device_name == "cuda" ? biggan::distributed::rank_device(ctx) : torch::Device(torch::kCPU);
    if (device_name == "cuda" && !device.is_cuda()) throw std::runtime_error("--device cuda: no CUDA device is visible");
    // rank_device turned the autotuner on for CUDA, as training does; 0 measures what it buys.
    if (cudnn_benchmark == 0) at::globalContext().setBenchmarkCuDNN(false);
    Case c = bench_case(name, batch);
    c.overrides.push_back("train.diffaug=" + diffaug);
    c.overrides.insert(c.overrides.end(), extra.begin(), extra.end());
    const auto config = biggan::config::load(c.files, c.overrides, ctx.world_size());
    const auto& d = config.derived;
    biggan::distributed::Collectives collectives(ctx, device);
    torch::manual_seed(0);
    biggan::train::Gan gan(config, device);
    gan.adam_kernels = adam == "foreach" ? biggan::optim::AdamKernels::foreach : biggan::optim::AdamKernels::per_tensor;
    auto gen = at::detail::createCPUGenerator(1 + static_cast<std::uint64_t>(ctx.rank()));
    const auto x = (torch::rand({d.loader_batch_per_rank, 3, d.resolution, d.resolution}, gen) * 2 - 1).to(device);
    const auto y = torch::randint(0, d.n_classes, {d.loader_batch_per_rank}, gen, torch::kInt64).to(device);
    // Latents on the device, as BigGAN-PyTorch's samplers draw them (no copy per micro-step).
    const auto on_device = torch::TensorOptions().device(device);
    const biggan::train::NoiseSource noise = [&](const biggan::train::MicroStep&, std::int64_t n) {
      if (device.is_cuda())
        return std::make_pair(torch::randn({n, d.dim_z}, on_device),
                              torch::randint(0, d.n_classes, {n}, on_device.dtype(torch::kInt64)));
      return std::make_pair(torch::randn({n, d.dim_z}, gen), torch::randint(0, d.n_classes, {n}, gen, torch::kInt64));
    };
    std::vector<std::int64_t> indices(static_cast<std::size_t>(d.loader_batch_per_rank));
    std::iota(indices.begin(), indices.end(), std::int64_t{0});
    const biggan::train::DiffAugment augment{config.train.diffaug, 0, ctx.rank(), d.num_D_accumulations,
                                             d.num_G_accumulations, 0, indices};
    std::vector<double> times;
    Profile recorded;
    double warmup_peak_GiB = 0;
    bool timed_peak_known = warmup == 0;
    for (int i = 0; i < iterations + warmup; ++i) {  // 2 warm-ups by default, as the reference figures
      if (i == warmup && warmup > 0) {
        warmup_peak_GiB = peak_memory_GiB(device);
        timed_peak_known = restart_peak_memory(device);
      }
      ctx.barrier();
      std::optional<profiler::TLSLegacyProfilerGuard> recording;
      if (profile_top > 0 && i >= warmup)
        recording.emplace(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU),
                          [&recorded](const profiler::thread_event_lists& lists) { recorded.add(lists); });
      const auto t = Clock::now();
      biggan::train::train_iteration(gan, config, x, y, noise, collectives, augment);
      biggan::train::update_ema(gan.G, gan.G_ema, 0.9999, i, 1000);
      biggan::train::average_bn_statistics(*gan.G, collectives);
      synchronize(device);
      if (i >= warmup) times.push_back(std::chrono::duration<double>(Clock::now() - t).count());
    }
    const double timed_peak_GiB = peak_memory_GiB(device);
    std::sort(times.begin(), times.end());
    const double median = (times[(times.size() - 1) / 2] + times[times.size() / 2]) / 2;
    const auto G_macs = biggan::model::generator_forward_macs(biggan::config::generator_options(config));
    const auto D_macs = biggan::model::discriminator_forward_macs(biggan::config::discriminator_options(config));
    const biggan::model::IterationShape shape{config.train.batch_size, d.G_batch_size, config.train.num_D_steps,
                                              d.num_D_accumulations, d.num_G_accumulations};
    // Per rank: each rank runs the whole iteration on its own micro-batches.
    const double model_flops = biggan::model::iteration_flops(G_macs.literal, D_macs.literal, shape);
    const double executed_flops = biggan::model::iteration_flops(G_macs.executed, D_macs.executed, shape);
    const double real_images = static_cast<double>(d.loader_batch_per_rank);
    nlohmann::json out{{"benchmark", "train_iteration"}, {"case", name}, {"ranks", ctx.world_size()},
                       {"threads_per_rank", threads}, {"iterations", iterations},
                       {"warmup", warmup},
                       {"median_seconds", median},
                       {"min_seconds", times.front()}, {"max_seconds", times.back()},
                       {"global_batch", d.global_batch_size},
                       {"batch_size", config.train.batch_size},
                       {"device", device.str()},
                       {"real_images_per_second", real_images * ctx.world_size() / median},
                       // The whole run's, warm-ups included, as BigGAN-PyTorch's bench_bp.py reports.
                       {"peak_memory_GiB", std::max(warmup_peak_GiB, timed_peak_GiB)},
                       {"timed_peak_memory_GiB", timed_peak_known ? nlohmann::json(timed_peak_GiB) : nlohmann::json()},
                       {"model_tflops_per_iteration", model_flops / 1e12},
                       {"executed_tflops_per_iteration", executed_flops / 1e12},
                       {"model_tflops_per_second", model_flops / median / 1e12},
                       {"diffaug", diffaug.empty() ? "off" : diffaug},
                       {"overrides", extra},
                       // The layout G and D ran (model.channels_last: auto resolves by device and ISA).
                       {"channels_last", biggan::model::nhwc_activations(config.model.channels_last, device.is_cuda(),
                                                                          biggan::core::onednn_uses_avx512())},
                       {"onednn_isa", biggan::core::onednn_isa_name()},
                       {"cudnn_benchmark", device.is_cuda() && at::globalContext().benchmarkCuDNN()},
                       {"fused_resampling", config.model.fused_resampling},
                       {"adam", adam},
                       {"allocator", biggan::core::allocator_description()},
                       {"precision", {{"G", config.model.G_precision == biggan::model::Precision::bf16 ? "bf16" : "fp32"},
                                      {"D", config.model.D_precision == biggan::model::Precision::bf16 ? "bf16" : "fp32"}}},
                       {"blas", device.is_cuda() ? "cuDNN / cuBLAS" : biggan::core::blas_description()}};
    if (profile_top > 0) {
      out["profile"] = top_operators(recorded.operators, profile_top, iterations);
      out["profile_callers"] = top_callers(recorded, profile_top, iterations);
      // Against median_seconds: host time near the iteration's wall time means the step waits on
      // the host (operator dispatch and kernel launches), not on the device. On a GPU the
      // iteration's one wait for the device (the copy of its numbers) is an operator call too,
      // normally the longest one, so it is reported apart.
      double all_us = 0, calls = 0;
      std::pair<std::string, double> longest{"", 0};
      for (const auto& [op, t] : recorded.operators) {
        all_us += t.self_us;
        calls += t.calls;
        if (t.longest_self_us > longest.second) longest = {op, t.longest_self_us};
      }
      out["profile_totals"] = {{"host_ms_per_iteration", all_us / 1000 / iterations},
                               {"operator_calls_per_iteration", calls / iterations},
                               {"longest_call_operator", longest.first},
                               {"longest_call_ms", longest.second / 1000}};
    }
    if (peak_tflops > 0) {
      out["peak_tflops"] = peak_tflops;
      out["model_flops_utilization"] = model_flops / median / 1e12 / peak_tflops;
      out["executed_flops_utilization"] = executed_flops / median / 1e12 / peak_tflops;
    }
    if (ctx.is_root()) std::cout << out.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << "\n";
    ctx.abort(1);
  }
  biggan::distributed::shutdown_process_context();
  return 0;
}
