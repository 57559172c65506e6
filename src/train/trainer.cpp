#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

#include "ckpt/checkpoint.h"
#include "config/module_options.h"
#include "core/atomic_file.h"
#include "core/blas.h"
#include "core/cpu_isa.h"
#include "core/error.h"
#include "core/fault_injection.h"
#include "core/memory.h"
#include "core/version.h"
#include "data/loader.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "logging/jsonl.h"
#include "logging/log.h"
#include "logging/progress.h"
#include "metrics/classifier.h"
#include "metrics/evaluation.h"
#include "metrics/report.h"
#include "run/run_folder.h"
#include "run/run_lock.h"
#include "sample/generate.h"
#include "sample/sheets.h"
#include "sample/standing_stats.h"
#include "train/finetune.h"
#include "train/gan_step.h"
#include "train/lr_schedule.h"
#include "train/memory_check.h"
#include "train/stop.h"

namespace biggan::train {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Small pure helpers.

void check_precision(const config::Config& c, const torch::Device& device) {
  for (const auto& [key, value] : {std::pair{"model.G_precision", c.model.G_precision},
                                   std::pair{"model.D_precision", c.model.D_precision}})
    if (value == model::Precision::bf16 && !device.is_cuda())
      throw ConfigError("--set", key, "bf16 autocast needs a CUDA device; this run is on the CPU (use fp32)");
}

std::uint64_t noise_seed(int seed, int rank, std::int64_t salt) {
  std::uint64_t x = static_cast<std::uint64_t>(seed) * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(rank) + 1;
  x ^= static_cast<std::uint64_t>(salt) * 0xbf58476d1ce4e5b9ULL;
  return x ^ (x >> 31);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string job_id() {
  const char* id = std::getenv("SLURM_JOB_ID");
  return id ? id : "";
}

int restart_count() {
  const char* n = std::getenv("SLURM_RESTART_COUNT");
  return n ? std::atoi(n) : 0;
}

bool due(int every, std::int64_t itr) { return every > 0 && itr % every == 0; }

// Every test_every iterations, and at each of test_at.
bool evaluation_due(const config::EvalConfig& e, std::int64_t itr) {
  return due(e.test_every, itr) || std::binary_search(e.test_at.begin(), e.test_at.end(), itr);
}

ckpt::Retention retention(const config::CkptConfig& c) { return {c.num_save_copies, c.num_best_copies, c.keep_every}; }

// Latents are a pure function of (seed, iteration, micro-step, global slot), with the slot
// rank * accumulations + accumulation: the same global batch draws the same z and y on any
// number of ranks (2 ranks x 1 accumulation = 1 rank x 2), and a resume has no stream to restore.
struct IterationLatents {
  int seed, rank, D_accumulations, G_accumulations, dim_z, n_classes;
  std::int64_t itr;

  std::pair<torch::Tensor, torch::Tensor> operator()(const MicroStep& m, std::int64_t n) const {
    const std::int64_t slot = global_slot(m, rank, D_accumulations, G_accumulations);
    auto gen = at::detail::createCPUGenerator(micro_step_seed(seed, itr, m, slot));
    // y is drawn before z: the order every run and checkpoint so far has used.
    torch::Tensor y = torch::randint(0, n_classes, {n}, gen, torch::kInt64);
    torch::Tensor z = torch::randn({n, dim_z}, gen);
    return {std::move(z), std::move(y)};
  }
};

// Sampling and evaluation run G_ema (or G) in train mode or with standing statistics, which move
// its SN vectors and BN statistics. A resume restores the checkpoint's, so they are put back
// afterwards: an uninterrupted run then continues exactly as a resumed one.
using BufferCopies = std::vector<std::pair<std::string, torch::Tensor>>;

BufferCopies copy_buffers(const torch::nn::Module& net) {
  BufferCopies copies;
  for (const auto& b : net.named_buffers()) copies.emplace_back(b.key(), b.value().clone());
  return copies;
}

void restore_buffers(torch::nn::Module& net, const BufferCopies& copies) {
  torch::NoGradGuard no_grad;
  auto buffers = net.named_buffers();
  for (const auto& [key, value] : copies) buffers[key].copy_(value);
}

class KeepBuffers {
 public:
  explicit KeepBuffers(torch::nn::Module& net) : net_(net), training_(net.is_training()), saved_(copy_buffers(net)) {}
  ~KeepBuffers() {
    restore_buffers(net_, saved_);
    net_.train(training_);
  }
  KeepBuffers(const KeepBuffers&) = delete;
  KeepBuffers& operator=(const KeepBuffers&) = delete;

 private:
  torch::nn::Module& net_;
  bool training_;
  BufferCopies saved_;
};

// G's buffers with the standing statistics of one iteration. The evaluation and the sheets of the
// same iteration share them: a second pass with the same seed from the same buffers would only
// compute them again (64 batches of G in the demo, a few seconds per save point on 2 cores).
struct StandingBuffers {
  std::int64_t itr = -1;
  const torch::nn::Module* net = nullptr;
  BufferCopies buffers;
};

// ---------------------------------------------------------------------------------------------
// The trainer's state: everything the steps of an iteration read and change, in one place.

// What "best" checkpoints are judged by: IS/FID with Inception v3 (which_best IS or FID) or the
// demo's classifier metric. Loaded at start when the run will evaluate at all, so that a missing
// weights or moments file fails at start, not hours in.
struct Evaluation {
  bool enabled = false;
  std::optional<metrics::ClassifierFile> classifier;
  std::optional<metrics::InceptionV3> inception;
  std::optional<metrics::DatasetMoments> data_moments;
};

// The run's JSONL logs (open on rank 0 only).
struct RunLogs {
  logging::JsonlWriter metrics, sv, events, eval, biggan_pytorch;
};

// Fixed latents for the sample grid: the same on every run and after every resume.
struct FixedLatents {
  int grid = 0;
  torch::Tensor z, y;
};

struct Trainer {
  Trainer(distributed::Context& context, const config::Config& resolved, const torch::Device& rank_device)
      : ctx(context), config(resolved), device(rank_device), start_wall(wall_seconds()) {}

  distributed::Context& ctx;
  config::Config config;  // resolved again for this rank count when an elastic resume needs it
  torch::Device device;
  double start_wall;
  std::unique_ptr<distributed::Collectives> collectives;
  run::RunFolder folder;
  std::unique_ptr<run::RunLock> lock;  // rank 0: one training process per run folder
  std::string resumed_from;            // "" when starting afresh
  std::unique_ptr<Gan> gan;
  std::unique_ptr<data::Loader> loader;
  ckpt::TrainingState state;
  std::int64_t total = 0;  // the last iteration
  Evaluation evaluation;
  std::unique_ptr<ckpt::Writer> writer;  // rank 0
  RunLogs logs;
  std::unique_ptr<logging::Progress> progress;  // rank 0
  FixedLatents fixed;
  std::int64_t last_saved_itr = -1;
  double iteration_seconds = 0;  // moving average, for the deadline margin
  StandingBuffers standing;      // this iteration's, once computed
};

// One iteration's numbers for the log.
struct IterationRecord {
  IterationMetrics losses;
  double G_lr = 0, D_lr = 0;  // the rates this iteration's steps used
  double seconds = 0, data_wait_seconds = 0;
  std::int64_t samples_seen = 0;
};

// ---------------------------------------------------------------------------------------------
// Start or resume.

run::LockOptions lock_options() {
  run::LockOptions o;
  o.warn = [](const std::string& w) { logging::warn(w); };
  return o;
}

// Rank 0's choice of the checkpoint to resume from; "" to start afresh.
std::string choose_checkpoint(const run::RunFolder& folder, const ResumeOptions& options) {
  if (options.resume == ResumeOptions::Resume::from_path) {
    if (!fs::is_directory(options.resume_from))
      throw Error("--resume-from " + options.resume_from + ": no such checkpoint folder");
    return options.resume_from;
  }
  if (options.resume == ResumeOptions::Resume::never) {
    if (!ckpt::list(folder.checkpoints).empty())
      throw Error("run folder " + folder.root + " already has checkpoints and --no-resume was given; choose another "
                  "folder with --set paths.experiment_name=NAME");
    return "";
  }
  return ckpt::choose_resume_checkpoint(folder.checkpoints, [](const std::string& w) { logging::warn(w); });
}

ckpt::Contents load_chosen_checkpoint(const std::string& path, const distributed::Context& ctx) {
  try {
    if (fault_armed("unreadable_checkpoint", ctx.rank())) throw Error(path + ": cannot open (fault injected by the test)");
    return ckpt::load(path);
  } catch (const Error& e) {
    throw Error("rank " + std::to_string(ctx.rank()) + " on " + ctx.host() + " cannot read the checkpoint rank 0 chose: " +
                e.what());
  }
}

// Elastic resume: keep the global batch on another number of ranks by changing the
// accumulation count (config resolution explains when that is impossible).
void keep_global_batch(Trainer& t, const ckpt::TrainingState& resumed) {
  const int ranks = t.ctx.world_size();
  if (resumed.world_size == ranks || resumed.global_batch_size == t.config.derived.global_batch_size) return;
  t.config.train.global_batch_size = static_cast<int>(resumed.global_batch_size);
  try {
    config::resolve(t.config, ranks);
  } catch (const ConfigError&) {
    const std::int64_t global = resumed.global_batch_size, micro = t.config.train.batch_size;
    std::string fits;
    for (int n = 1; n <= 1024 && fits.size() < 60; ++n)
      if (global % (micro * n) == 0) fits += (fits.empty() ? "" : ", ") + std::to_string(n);
    throw Error("resuming " + t.resumed_from + " (written by " + std::to_string(resumed.world_size) +
                " rank(s), global batch " + std::to_string(global) + ") on " + std::to_string(ranks) +
                " ranks: the global batch must stay " + std::to_string(global) + ", and " + std::to_string(global) +
                " is not a multiple of train.batch_size x ranks = " + std::to_string(micro) + " x " +
                std::to_string(ranks) + "; run it on " + (fits.empty() ? "fewer" : fits) +
                " rank(s), or set train.batch_size to a divisor of " + std::to_string(global) + " / ranks");
  }
  if (t.ctx.is_root())
    logging::info("resuming a " + std::to_string(resumed.world_size) + "-rank run on " + std::to_string(ranks) +
                  " ranks: " + std::to_string(t.config.derived.num_D_accumulations) +
                  " accumulations keep the global batch of " + std::to_string(t.config.derived.global_batch_size));
}

// Rank 0, resuming: the config the checkpoint was written with against this one. In the run's own
// folder the folder's config.yaml decides (run::prepare_run_folder refuses a changed run); when
// that file is gone it is restored from the checkpoint first, so the same check still applies.
// Another run's checkpoint (--resume-from, a branch) may differ on purpose: what differs is
// listed, so a deliberate change is on record and an accidental one is seen.
void check_against_written_config(const Trainer& t, const ckpt::TrainingState& resumed) {
  if (!t.ctx.is_root() || resumed.config_yaml.empty()) return;  // imported weights carry no config of ours
  config::Config written;
  try {
    config::apply_yaml_text(written, resumed.config_yaml, t.resumed_from + "/state.json config_yaml");
    config::resolve(written, resumed.world_size);
  } catch (const ConfigError& e) {
    logging::warn("the config " + t.resumed_from + " was written with cannot be compared with this one: " + e.what());
    return;
  }
  std::error_code ec;
  if (fs::equivalent(fs::path(t.resumed_from).parent_path(), t.folder.checkpoints, ec)) {
    if (!fs::exists(t.folder.config_file)) {
      write_file_atomically(t.folder.config_file, config::to_yaml(written, /*with_derived=*/false));
      logging::warn(t.folder.config_file + " was missing; restored from " + t.resumed_from +
                    "/state.json, the config this run was trained with");
    }
    return;
  }
  std::string changed;
  for (const auto& d : config::run_identity_differences(written, t.config))
    if (d.rfind("paths.", 0) != 0) changed += "\n  " + d;
  if (!changed.empty())
    logging::warn("resuming " + t.resumed_from + ", another run's checkpoint, with settings other than it was trained "
                  "with (as written -> now):" + changed);
}

std::unique_ptr<data::Loader> make_loader(const config::Config& c, const torch::Device& device, MPI_Comm comm) {
  data::LoaderOptions o;
  o.path = c.derived.dataset_path;
  o.batch_per_rank = c.derived.loader_batch_per_rank;
  o.load_in_mem = c.data.load_in_mem;
  o.hflip = c.data.augment;
  o.shuffle = c.data.shuffle;
  o.seed = static_cast<std::uint64_t>(c.train.seed);
  o.prefetch_batches = c.data.prefetch_batches;
  o.resolution = c.derived.resolution;
  o.n_classes = c.derived.n_classes;
  o.pin_memory = c.data.pin_memory && device.is_cuda();
  return std::make_unique<data::Loader>(o, comm);
}

// Networks, optimizers and the loader's position: fresh (or from pretrained weights), or as the
// checkpoint left them.
void build_networks(Trainer& t, const std::optional<ckpt::Contents>& resumed,
                    const std::optional<ckpt::Pretrained>& pretrained) {
  const auto& c = t.config;
  torch::manual_seed(c.train.seed);
  t.gan = std::make_unique<Gan>(c, t.device);
  Gan& gan = *t.gan;
  if (t.ctx.is_root())
    logging::info("Number of params in G: " + std::to_string(model::parameter_count(*gan.G)) +
                  " D: " + std::to_string(model::parameter_count(*gan.D)));
  if (c.model.cross_replica) {
    distributed::Collectives* collectives = t.collectives.get();
    gan.G->set_stats_reducer([collectives](const torch::Tensor& x) {
      return distributed::differentiable_allreduce_sum(x, *collectives);
    });
  }
  if (pretrained) start_from_pretrained(gan, *pretrained, c);
  if (resumed) {
    const std::string& from = t.resumed_from;
    t.state = resumed->state;
    model::load_state_dict(*gan.G, resumed->G, true, from + "/G.h5");
    model::load_state_dict(*gan.D, resumed->D, true, from + "/D.h5");
    if (gan.G_ema) {
      if (resumed->G_ema.empty()) copy_to_ema(gan.G, gan.G_ema);
      else model::load_state_dict(*gan.G_ema, resumed->G_ema, true, from + "/G_ema.h5");
    }
    ckpt::restore_adam_state(*gan.G_optim, resumed->G_optim, from + "/G_optim.h5");
    ckpt::restore_adam_state(*gan.D_optim, resumed->D_optim, from + "/D_optim.h5");
    t.loader->restore(t.state.sampler);
    // Nothing in training draws from the default generator after initialisation; restored anyway,
    // so that a resumed process is in the state an uninterrupted one would be.
    if (t.state.world_size == t.ctx.world_size() && resumed->rng.defined()) {
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      generator.set_state(resumed->rng[t.ctx.rank()].clone());
    }
    t.last_saved_itr = t.state.itr;
  }
  // Every rank starts from rank 0's model (identical already; this makes it a guarantee).
  distributed::broadcast_state(*gan.G, *t.collectives);
  distributed::broadcast_state(*gan.D, *t.collectives);
  if (gan.G_ema) distributed::broadcast_state(*gan.G_ema, *t.collectives);
}

Evaluation load_evaluation(const config::Config& c, std::int64_t start_itr, std::int64_t total,
                           const torch::Device& device) {
  Evaluation e;
  const auto& at = c.eval.test_at;
  e.enabled = (c.eval.test_every > 0 && total / c.eval.test_every > start_itr / c.eval.test_every) ||
              std::any_of(at.begin(), at.end(), [&](std::int64_t itr) { return itr > start_itr && itr <= total; });
  if (!e.enabled) return e;
  if (c.ckpt.which_best == config::BestMetric::classifier) {
    e.classifier = metrics::load_classifier(config::classifier_path(c));
  } else {
    e.inception = config::configured_inception(c);
    (*e.inception)->to(device);
    e.data_moments = config::reference_moments(c);
  }
  return e;
}

constexpr std::int64_t kEveryIteration = std::numeric_limits<std::int64_t>::max();

// Moves what an interrupted run logged after iteration `itr` (and damaged lines) out of
// logs/<name> into logs/superseded/<name>, saying so. Returns how many lines moved.
std::int64_t supersede_log_lines(const std::string& logs, const std::string& name, std::int64_t itr) {
  const auto moved = logging::supersede_lines_after(logs + "/" + name, itr, logs + "/superseded/" + name);
  if (moved.later > 0)
    logging::info(name + ": " + std::to_string(moved.later) + " lines logged after iteration " + std::to_string(itr) +
                  " by the interrupted run moved to " + moved.archive);
  if (moved.damaged > 0)
    logging::warn(name + ": " + std::to_string(moved.damaged) +
                  " damaged lines (not a JSON object, or torn by a kill) moved to " + moved.archive);
  return moved.later + moved.damaged;
}

// Rank 0: the checkpoint writer, the logs (what followed the resumed iteration moved aside) and
// the progress.
void open_outputs(Trainer& t) {
  if (!t.ctx.is_root()) return;
  const auto& c = t.config;
  const auto& logs = t.folder.logs;
  t.writer = std::make_unique<ckpt::Writer>(t.folder.checkpoints, retention(c.ckpt), c.ckpt.async_save);
  const std::string bp_log_name = c.derived.experiment_name + "_log.jsonl";
  std::int64_t superseded = 0;
  for (const std::string name : {"metrics.jsonl", "sv.jsonl", "eval.jsonl", "events.jsonl", bp_log_name.c_str()})
    superseded += supersede_log_lines(logs, name, name == "events.jsonl" ? kEveryIteration : t.state.itr);
  const std::string bp_log = logs + "/" + bp_log_name;
  if (t.evaluation.inception) t.logs.biggan_pytorch = logging::JsonlWriter(bp_log);
  t.logs.eval = logging::JsonlWriter(logs + "/eval.jsonl");
  t.logs.metrics = logging::JsonlWriter(logs + "/metrics.jsonl");
  t.logs.sv = logging::JsonlWriter(logs + "/sv.jsonl");
  t.logs.events = logging::JsonlWriter(logs + "/events.jsonl");
  t.logs.events.write({{"time", wall_seconds()}, {"event", t.resumed_from.empty() ? "start" : "resume"},
                       {"itr", t.state.itr}, {"job_id", job_id()}, {"restart_count", restart_count()},
                       {"ranks", t.ctx.world_size()}, {"collectives", t.collectives->backend()},
                       {"blas", core::blas_description()}, {"isa", core::onednn_isa_name()},
                       {"activations", t.gan->G->uses_nhwc(t.device) ? "NHWC" : "NCHW"},
                       {"checkpoint", t.resumed_from}, {"host", t.ctx.host()},
                       {"init_from", t.resumed_from.empty() ? c.finetune.init_from : std::string()},
                       {"superseded_lines", superseded}});
  if (!t.resumed_from.empty())
    logging::info("resumed from " + t.resumed_from + " at iteration " + std::to_string(t.state.itr));
  t.progress = std::make_unique<logging::Progress>("train", t.total, c.log.pbar, t.state.itr, 30.0, c.log.print_every);
}

FixedLatents fixed_latents(const config::Config& c) {
  FixedLatents f;
  auto gen = at::detail::createCPUGenerator(noise_seed(c.train.seed, -1, 0));
  f.grid = std::min<int>(64, c.derived.G_batch_size);
  f.z = torch::randn({f.grid, c.derived.dim_z}, gen);
  f.y = torch::randint(0, c.derived.n_classes, {f.grid}, gen, torch::kInt64);
  return f;
}

// A start that failed before its first iteration left a config.yaml and nothing else; the
// corrected command took the folder over (this process holds run.lock).
void report_superseded_config(const run::PreparedRunFolder& prepared) {
  if (prepared.superseded_config.empty()) return;
  logging::warn("run folder " + prepared.folder.root +
                " held no checkpoint, sample or logged iteration of the config it recorded (changed: " +
                prepared.changes + "); that config is kept as " + prepared.superseded_config +
                " and this run starts in the folder");
}

std::unique_ptr<Trainer> start_or_resume(const config::Config& config, const ResumeOptions& options) {
  auto& ctx = distributed::process_context();
  torch::set_num_threads(config.dist.intra_op_threads);
  const torch::Device device = distributed::rank_device(ctx);
  check_precision(config, device);
  install_stop_signals(config.ckpt.stop_signal);
  auto t = std::make_unique<Trainer>(ctx, config, device);
  t->collectives = std::make_unique<distributed::Collectives>(ctx, device, config.dist.backend);
  t->folder = run::RunFolder::at(config.derived.run_dir);
  if (ctx.is_root()) t->lock = std::make_unique<run::RunLock>(t->folder.root, lock_options());

  // Rank 0 chooses (the newest valid checkpoint, --resume-from, or none) and every rank loads
  // that one: on a cluster file system another node may list an older folder.
  t->resumed_from = ctx.broadcast(ctx.is_root() ? choose_checkpoint(t->folder, options) : std::string());
  std::optional<ckpt::Contents> resumed;
  std::optional<ckpt::Pretrained> pretrained;
  const std::string& init_from = config.finetune.init_from;
  if (!t->resumed_from.empty()) {
    resumed = load_chosen_checkpoint(t->resumed_from, ctx);
    keep_global_batch(*t, resumed->state);
    check_against_written_config(*t, resumed->state);
    if (!init_from.empty() && ctx.is_root())
      logging::info("this fine-tuning run resumes from its own checkpoint " + t->resumed_from +
                    "; finetune.init_from " + init_from + " is not read again");
  } else if (!init_from.empty()) {
    // Rank 0 decides which folder (a run's newest valid checkpoint); every rank reads that one.
    pretrained = ckpt::read_pretrained(ctx.broadcast(ctx.is_root() ? ckpt::resolve_pretrained(init_from) : std::string()));
    check_architecture(*pretrained, t->config);  // before the run folder exists
  }
  // The inputs (the dataset against the config's resolution and classes, the classifier or the
  // Inception weights and reference moments) are read before the run folder records the config
  // and before the networks are built: a wrong file is named at once, and nothing is written.
  // After the resume's accumulations are known (keep_global_batch).
  const auto& c = t->config;
  // Every rank measures before any rank builds its networks (the barrier below).
  if (const auto memory = core::available_host_memory())
    check_networks_fit(c, !device.is_cuda(), ctx.local_size(), *memory);
  t->loader = make_loader(c, device, ctx.comm());
  t->total = c.train.total_iterations > 0 ? c.train.total_iterations : c.train.num_epochs * t->loader->batches_per_epoch();
  t->evaluation = load_evaluation(c, resumed ? resumed->state.itr : 0, t->total, device);
  if (ctx.is_root()) report_superseded_config(run::prepare_run_folder(c, run::OtherRun::take_over_unused));
  ctx.barrier();

  build_networks(*t, resumed, pretrained);
  resumed.reset();
  pretrained.reset();
  open_outputs(*t);
  t->fixed = fixed_latents(c);
  return t;
}

// ---------------------------------------------------------------------------------------------
// The steps of one iteration.

// optim.lr_schedule's rates for the iteration about to run (t.state.itr), set on both optimizers.
void schedule_learning_rates(Trainer& t, IterationRecord& r) {
  const auto& o = t.config.optim;
  const double factor = learning_rate_factor(o.lr_schedule, o.lr_decay_start, t.state.itr, t.total);
  r.G_lr = o.G_lr * factor;
  r.D_lr = o.D_lr * factor;
  t.gan->set_learning_rates(r.G_lr, r.D_lr);
}

// Batch, D steps and G step (gradients averaged across ranks inside), EMA, BN statistics.
IterationRecord train_one_iteration(Trainer& t) {
  const auto& c = t.config;
  Gan& gan = *t.gan;
  const auto t0 = Clock::now();
  const double waited_before = t.loader->wait_seconds();
  const data::Batch batch = t.loader->next();
  IterationRecord r;
  r.data_wait_seconds = t.loader->wait_seconds() - waited_before;
  r.samples_seen = batch.after.samples_seen;
  ++t.state.itr;
  t.state.epoch = batch.after.epoch;
  schedule_learning_rates(t, r);

  gan.train_mode();
  const IterationLatents latents{c.train.seed,       t.ctx.rank(),       c.derived.num_D_accumulations,
                                 c.derived.num_G_accumulations, c.derived.dim_z, c.derived.n_classes,
                                 t.state.itr};
  const DiffAugment augment{c.train.diffaug,           c.train.seed, t.ctx.rank(), c.derived.num_D_accumulations,
                            c.derived.num_G_accumulations, t.state.itr, batch.indices};
  r.losses = train_iteration(gan, c, batch.x.to(t.device, /*non_blocking=*/batch.x.is_pinned()),
                             batch.y.to(t.device, /*non_blocking=*/batch.y.is_pinned()), latents, *t.collectives,
                             augment);
  if (gan.G_ema) update_ema(gan.G, gan.G_ema, c.train.ema_decay, t.state.itr, c.train.ema_start);
  // Local batch statistics differ per rank; the model must not.
  if (!c.model.cross_replica) average_bn_statistics(*gan.G, *t.collectives);
  if (fault_armed("perturb_parameter", t.ctx.rank(), t.state.itr)) {
    torch::NoGradGuard no_grad;
    gan.G->parameters().front().add_(1e-3);
  }

  r.seconds = seconds_since(t0);
  t.state.seconds_trained += r.seconds;
  t.iteration_seconds = t.iteration_seconds == 0 ? r.seconds : 0.9 * t.iteration_seconds + 0.1 * r.seconds;
  const auto& m = r.losses;
  for (const double v : {m.G_loss, m.D_loss_real, m.D_loss_fake, m.G_loss_mean, m.D_loss_real_mean, m.D_loss_fake_mean})
    if (!std::isfinite(v))
      throw Error("non-finite loss at iteration " + std::to_string(t.state.itr) + " (G_loss " + std::to_string(m.G_loss) +
                  ", D_loss_real " + std::to_string(m.D_loss_real) + ", D_loss_fake " + std::to_string(m.D_loss_fake) +
                  "); the checkpoints in " + t.folder.checkpoints + " hold the last good state");
  return r;
}

// metrics.jsonl, sv.jsonl and the progress line (rank 0).
void log_iteration(Trainer& t, const IterationRecord& r) {
  if (!t.ctx.is_root()) return;
  const auto& c = t.config;
  const auto& m = r.losses;
  t.logs.metrics.write({{"itr", t.state.itr},
                        {"epoch", t.state.epoch},
                        {"samples_seen", r.samples_seen},
                        {"G_loss", m.G_loss},
                        {"D_loss_real", m.D_loss_real},
                        {"D_loss_fake", m.D_loss_fake},
                        {"G_loss_mean", m.G_loss_mean},
                        {"D_loss_real_mean", m.D_loss_real_mean},
                        {"D_loss_fake_mean", m.D_loss_fake_mean},
                        {"G_grad_norm", m.G_grad_norm},
                        {"D_grad_norm", m.D_grad_norm},
                        {"G_lr", r.G_lr},
                        {"D_lr", r.D_lr},
                        {"seconds_per_iteration", r.seconds},
                        {"images_per_second", c.derived.images_per_iteration / r.seconds},
                        {"data_wait_seconds", r.data_wait_seconds},
                        {"time", wall_seconds()}});
  if (due(c.log.sv_log_interval, t.state.itr)) {
    nlohmann::json sv{{"itr", t.state.itr}};
    for (const auto& [name, value] : model::singular_values(*t.gan->G)) sv["G"][name] = value;
    for (const auto& [name, value] : model::singular_values(*t.gan->D)) sv["D"][name] = value;
    t.logs.sv.write(sv);
  }
  char detail[160];
  std::snprintf(detail, sizeof detail, "G_loss %.4f D_real %.4f D_fake %.4f", m.G_loss, m.D_loss_real, m.D_loss_fake);
  t.progress->update(t.state.itr, detail);
}

// Every rank holds the same model; a tensor that differs names itself and its ranks.
void check_consistency(Trainer& t) {
  std::string bad;
  for (const auto& [net_name, net] : {std::pair<const char*, torch::nn::Module*>{"G", t.gan->G.get()},
                                      std::pair<const char*, torch::nn::Module*>{"D", t.gan->D.get()}})
    for (const auto& divergence : distributed::divergent_tensors(*net, *t.collectives)) {
      std::string ranks;
      for (const int r : divergence.ranks) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
      bad += std::string(bad.empty() ? "" : "; ") + net_name + " " + divergence.tensor + " on rank" +
             (divergence.ranks.size() > 1 ? "s " : " ") + ranks;
    }
  if (!bad.empty())
    throw Error("ranks diverged at iteration " + std::to_string(t.state.itr) + ": these tensors differ from rank 0's: " + bad);
}

model::Generator& sampled_generator(Trainer& t) {
  return t.gan->G_ema && t.config.train.use_ema ? t.gan->G_ema : t.gan->G;
}

// G in the mode this iteration scores and samples in (sample::prepare_for_sampling), on every
// rank. Standing statistics are computed once per iteration and G: the callers restore G's
// training buffers in between (KeepBuffers), so a second call would start from the same buffers
// with the same seed and compute the same statistics bit for bit.
void prepare_sampled_generator(Trainer& t, model::Generator& G) {
  const auto& c = t.config;
  StandingBuffers& standing = t.standing;
  if (c.derived.standing_batches > 0 && standing.itr == t.state.itr && standing.net == G.get()) {
    restore_buffers(*G, standing.buffers);
    G->eval();
    return;
  }
  sample::prepare_for_sampling(G, c.derived.standing_batches, c.eval.G_eval_mode, c.derived.G_batch_size,
                               sample::standing_seed(c.train.seed, t.state.itr));
  if (c.derived.standing_batches == 0) return;
  standing = {t.state.itr, G.get(), copy_buffers(*G)};
}

// The classifier metric or IS/FID (spec §3.8), logged; returns whether it improved on the best.
bool evaluate(Trainer& t) {
  const auto& c = t.config;
  const std::uint64_t seed = static_cast<std::uint64_t>(c.train.seed);
  model::Generator& G = sampled_generator(t);
  std::optional<KeepBuffers> keep(std::in_place, *G);
  prepare_sampled_generator(t, G);
  const auto t_eval = Clock::now();
  bool improved = false;
  nlohmann::json line{{"itr", t.state.itr}};
  std::string summary;
  if (t.evaluation.classifier) {
    const auto score = metrics::score_generator(G, *t.evaluation.classifier, c.eval.num_classifier_samples,
                                                c.train.batch_size, seed, *t.collectives);
    improved = score.accuracy > t.state.best_metric;
    if (improved) t.state.best_metric = score.accuracy;
    line.update({{"accuracy", score.accuracy}, {"frechet", score.frechet}, {"samples", score.samples}});
    summary = "classifier accuracy " + std::to_string(score.accuracy) + ", Fréchet distance " + std::to_string(score.frechet);
  } else {
    // Training evaluates with standard latents (sample.* is for `biggan sample`).
    auto options = config::evaluation_options(c, seed);
    options.z_var = 1.0;
    options.truncation = 0.0;
    const auto& data = t.evaluation.data_moments;
    const auto scores = metrics::evaluate_generator(G, *t.evaluation.inception, data ? &*data : nullptr, options,
                                                    *t.collectives);
    improved = c.ckpt.which_best == config::BestMetric::IS ? scores.inception_score.mean > t.state.best_IS
                                                           : (data && scores.FID < t.state.best_FID);
    t.state.best_IS = std::max(t.state.best_IS, scores.inception_score.mean);
    if (data) t.state.best_FID = std::min(t.state.best_FID, scores.FID);
    line.update(metrics::to_json(scores));
    summary = "PYTORCH UNOFFICIAL Inception Score is " + std::to_string(scores.inception_score.mean) + " +/- " +
              std::to_string(scores.inception_score.std) + (data ? ", FID is " + std::to_string(scores.FID) : "");
    if (t.ctx.is_root())
      t.logs.biggan_pytorch.write_line(metrics::biggan_pytorch_test_log_line(t.state.itr, scores, wall_seconds()));
  }
  keep.reset();  // the model as it was before evaluating, before a best checkpoint stores it
  if (t.ctx.is_root()) {
    line.update({{"best", improved}, {"seconds", seconds_since(t_eval)}, {"time", wall_seconds()}});
    t.logs.eval.write(line);
    logging::info("itr " + std::to_string(t.state.itr) + ": " + summary + (improved ? " (best so far)" : ""));
  }
  return improved;
}

// Host copies on every rank's behalf (RNG states gathered), written by rank 0. A periodic save
// takes the next slot of the copies ring, a new best the next of the best ring. Collective.
void save_checkpoint(Trainer& t, bool best) {
  const auto& c = t.config;
  const ckpt::Slots slots = ckpt::take_slots(t.state, best, retention(c.ckpt));
  t.last_saved_itr = t.state.itr;
  torch::Tensor rng = t.collectives->allgather(at::detail::getDefaultCPUGenerator().get_state());
  if (!t.ctx.is_root()) return;
  const Gan& gan = *t.gan;
  ckpt::Contents spare = t.writer->reclaim();  // the previous save's host buffers, once it is written
  ckpt::Contents contents;
  contents.state = t.state;
  contents.state.sampler = t.loader->state();
  contents.state.world_size = t.ctx.world_size();
  contents.state.num_D_accumulations = c.derived.num_D_accumulations;
  contents.state.num_G_accumulations = c.derived.num_G_accumulations;
  contents.state.global_batch_size = c.derived.global_batch_size;
  contents.state.config_yaml = config::to_yaml(c, false);
  contents.state.code_version = git_hash();
  contents.G = ckpt::host_copy(*gan.G, std::move(spare.G));
  contents.D = ckpt::host_copy(*gan.D, std::move(spare.D));
  if (gan.G_ema) contents.G_ema = ckpt::host_copy(*gan.G_ema, std::move(spare.G_ema));
  contents.G_optim = ckpt::adam_state(*gan.G_optim, std::move(spare.G_optim));
  contents.D_optim = ckpt::adam_state(*gan.D_optim, std::move(spare.D_optim));
  contents.rng = rng;
  t.writer->save(std::move(contents), slots);
}

// The fixed-z grid and the sample sheets of this iteration (standing statistics on every rank).
void write_samples(Trainer& t) {
  const auto& c = t.config;
  model::Generator& G = sampled_generator(t);
  const KeepBuffers keep(*G);
  prepare_sampled_generator(t, G);
  if (!t.ctx.is_root()) return;
  const std::string& samples = t.folder.samples;
  const std::string dir = samples + "/" + std::to_string(t.state.itr);
  fs::create_directories(dir);
  sample::write_grid(samples + "/fixed_samples" + std::to_string(t.state.itr) + ".png",
                     sample::generate(G, t.fixed.z, t.fixed.y, c.train.batch_size),
                     static_cast<int>(std::sqrt(static_cast<double>(t.fixed.grid))));
  sample::SheetSettings sheets;
  sheets.classes_per_sheet = c.derived.classes_per_sheet;
  sheets.samples_per_class = c.sample.samples_per_class;
  sheets.interp_rows = c.sample.interp_rows;
  sheets.interp_midpoints = c.sample.interp_midpoints;
  sheets.batch_size = c.train.batch_size;
  sheets.seed = static_cast<std::uint64_t>(c.train.seed);
  sample::write_sheets(G, dir, sheets);
}

// A signal or the deadline, agreed by every rank at this boundary: the reason ("signal 12",
// "deadline"), or nothing to go on. Collective.
std::optional<std::string> agree_to_stop(Trainer& t) {
  const double margin = 2 * ((t.writer ? t.writer->last_write_seconds() : 0) + t.iteration_seconds) + 30;
  const bool deadline = seconds_until_deadline(t.start_wall, t.config.ckpt.walltime_minutes) < margin;
  // The reason travels in the same allreduce: the rank that got the signal may not be rank 0.
  torch::Tensor stop = torch::tensor({static_cast<std::int64_t>(stop_requested() || deadline),
                                      static_cast<std::int64_t>(stop_signal_number()), static_cast<std::int64_t>(deadline)},
                                     torch::kInt64);
  t.collectives->allreduce_(stop, distributed::ReduceOp::max);
  if (stop[0].item<std::int64_t>() == 0 || t.state.itr >= t.total) return std::nullopt;
  return stop[2].item<std::int64_t>() != 0 ? "deadline" : "signal " + std::to_string(stop[1].item<std::int64_t>());
}

// A final checkpoint unless this iteration already has one (saved in the loop, or the checkpoint
// this run resumed from and trained nothing after: saving that again would give its folder a
// second slot of the copies ring), then wait for it. Returns the exit code.
int finish(Trainer& t, const std::optional<std::string>& stop_reason) {
  const int exit_code = stop_reason ? kRequeueExitCode : 0;
  const bool save_final = t.state.itr != t.last_saved_itr;
  if (save_final) save_checkpoint(t, false);
  if (t.writer) t.writer->wait();
  if (exit_code == 0 && save_final) write_samples(t);
  if (t.ctx.is_root()) {
    const std::string reason = stop_reason.value_or("finished");
    t.progress->finish(t.state.itr);
    t.logs.events.write({{"time", wall_seconds()}, {"event", exit_code == 0 ? "finish" : "stop"}, {"reason", reason},
                         {"itr", t.state.itr}, {"job_id", job_id()}, {"restart_count", restart_count()}});
    logging::info(exit_code == 0 ? "training finished at iteration " + std::to_string(t.state.itr)
                                 : "stopped at iteration " + std::to_string(t.state.itr) + " (" + reason +
                                       "); checkpoint written, exit code " + std::to_string(kRequeueExitCode) +
                                       " asks for a requeue");
  }
  t.ctx.barrier();
  return exit_code;
}

}  // namespace

int train_gan(const config::Config& config, const ResumeOptions& options) {
  const std::unique_ptr<Trainer> trainer = start_or_resume(config, options);
  Trainer& t = *trainer;
  const auto& c = t.config;
  std::optional<std::string> stop_reason;
  while (t.state.itr < t.total && !stop_reason) {
    const IterationRecord record = train_one_iteration(t);
    log_iteration(t, record);
    if (due(c.dist.consistency_check_every, t.state.itr)) check_consistency(t);
    if (t.evaluation.enabled && evaluation_due(c.eval, t.state.itr) && evaluate(t)) save_checkpoint(t, /*best=*/true);
    if (due(c.ckpt.save_every, t.state.itr)) {
      save_checkpoint(t, /*best=*/false);
      write_samples(t);
    }
    stop_reason = agree_to_stop(t);
  }
  return finish(t, stop_reason);
}

}  // namespace biggan::train
