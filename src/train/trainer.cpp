#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "ckpt/checkpoint.h"
#include "core/error.h"
#include "core/fault_injection.h"
#include "core/version.h"
#include "data/loader.h"
#include "dist/collectives.h"
#include "dist/context.h"
#include "log/jsonl.h"
#include "log/log.h"
#include "log/progress.h"
#include "metrics/classifier.h"
#include "metrics/inception_metrics.h"
#include "run/run_folder.h"
#include "run/run_lock.h"
#include "sample/sheets.h"
#include "sample/standing_stats.h"
#include "train/gan_step.h"
#include "train/stop.h"

namespace biggan::train {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

void check_precision(const config::Config& c, const torch::Device& device) {
  for (const auto& [key, value] : {std::pair{"model.G_precision", c.model.G_precision},
                                   std::pair{"model.D_precision", c.model.D_precision}}) {
    if (value == "fp32") continue;
    if (value != "bf16") throw ConfigError("--set", key, "unknown precision '" + value + "' (fp32 | bf16)");
    if (!device.is_cuda())
      throw ConfigError("--set", key, "bf16 autocast needs a CUDA device; this run is on the CPU (use fp32)");
  }
}

std::uint64_t noise_seed(int seed, int rank, std::int64_t salt) {
  std::uint64_t x = static_cast<std::uint64_t>(seed) * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(rank) + 1;
  x ^= static_cast<std::uint64_t>(salt) * 0xbf58476d1ce4e5b9ULL;
  return x ^ (x >> 31);
}

// splitmix64 over (seed, iteration, micro-step, global slot): the seed of one micro-step's latents.
std::uint64_t latent_seed(int seed, std::int64_t itr, const MicroStep& m, std::int64_t slot) {
  std::uint64_t h = static_cast<std::uint64_t>(seed);
  for (const std::uint64_t v : {static_cast<std::uint64_t>(itr), static_cast<std::uint64_t>(m.phase),
                                static_cast<std::uint64_t>(m.step), static_cast<std::uint64_t>(slot)}) {
    h += 0x9e3779b97f4a7c15ULL + v;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
  }
  return h;
}

run::LockOptions lock_options() {
  run::LockOptions o;
  o.warn = [](const std::string& w) { log::warn(w); };
  return o;
}

// Rank 0's choice of the checkpoint to resume from; "" to start afresh.
std::string choose_checkpoint(const run::RunFolder& folder, const RunOptions& options) {
  if (options.resume == RunOptions::Resume::from_path) {
    if (!fs::is_directory(options.resume_from))
      throw Error("--resume-from " + options.resume_from + ": no such checkpoint folder");
    return options.resume_from;
  }
  if (options.resume == RunOptions::Resume::never) {
    if (!ckpt::list(folder.checkpoints).empty())
      throw Error("run folder " + folder.root + " already has checkpoints and --no-resume was given; choose another "
                  "folder with --set paths.experiment_name=NAME");
    return "";
  }
  return ckpt::choose_resume_checkpoint(folder.checkpoints, [](const std::string& w) { log::warn(w); });
}

ckpt::Contents load_chosen_checkpoint(const std::string& path, const dist::Context& ctx) {
  try {
    if (fault_armed("unreadable_checkpoint", ctx.rank())) throw Error(path + ": cannot open (fault injected by the test)");
    return ckpt::load(path);
  } catch (const Error& e) {
    throw Error("rank " + std::to_string(ctx.rank()) + " on " + ctx.host() + " cannot read the checkpoint rank 0 chose: " +
                e.what());
  }
}

// Sampling and evaluation run G_ema (or G) in train mode or with standing statistics, which move
// its SN vectors and BN statistics. A resume restores the checkpoint's, so they are put back
// afterwards: an uninterrupted run then continues exactly as a resumed one.
class KeepBuffers {
 public:
  explicit KeepBuffers(torch::nn::Module& net) : net_(net), training_(net.is_training()) {
    for (const auto& b : net.named_buffers()) saved_.emplace_back(b.key(), b.value().clone());
  }
  ~KeepBuffers() {
    torch::NoGradGuard no_grad;
    auto buffers = net_.named_buffers();
    for (const auto& [key, value] : saved_) buffers[key].copy_(value);
    net_.train(training_);
  }
  KeepBuffers(const KeepBuffers&) = delete;
  KeepBuffers& operator=(const KeepBuffers&) = delete;

 private:
  torch::nn::Module& net_;
  bool training_;
  std::vector<std::pair<std::string, torch::Tensor>> saved_;
};

// The latents of a standing-statistics pass at iteration `itr`: one seed for every rank, so that
// each computes the same statistics whatever the number of ranks (sheets and evaluation alike).
std::uint64_t standing_seed(int seed, std::int64_t itr) {
  return static_cast<std::uint64_t>(seed) * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(itr) + 1;
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string job_id() {
  const char* id = std::getenv("SLURM_JOB_ID");
  return id ? id : "";
}

int restart_count() {
  const char* n = std::getenv("SLURM_RESTART_COUNT");
  return n ? std::atoi(n) : 0;
}

}  // namespace

int run_training(const config::Config& config_in, const RunOptions& options) {
  auto& ctx = dist::process_context();
  config::Config config = config_in;
  torch::set_num_threads(config.dist.intra_op_threads);
  const torch::Device device = dist::rank_device(ctx);
  check_precision(config, device);
  install_stop_signals(config.ckpt.stop_signal);
  const double start_wall = wall_seconds();
  dist::Collectives collectives(ctx, device, dist::parse_backend(config.dist.backend));

  // ---- One training process per run folder: rank 0 holds its lock for the whole run.
  const run::RunFolder folder = run::RunFolder::at(config.derived.run_dir);
  std::unique_ptr<run::RunLock> lock;
  if (ctx.is_root()) lock = std::make_unique<run::RunLock>(folder.root, lock_options());

  // ---- Resume: rank 0 chooses (the newest valid checkpoint, --resume-from, or none) and every
  // rank loads that one: on a cluster file system another node may list an older folder.
  const std::string resumed_from = ctx.broadcast(ctx.is_root() ? choose_checkpoint(folder, options) : std::string());
  std::optional<ckpt::Contents> resumed;
  if (!resumed_from.empty()) resumed = load_chosen_checkpoint(resumed_from, ctx);
  // Elastic resume: keep the global batch on another number of ranks by changing the
  // accumulation count (config resolution explains when that is impossible).
  if (resumed && resumed->state.world_size != ctx.world_size() &&
      resumed->state.global_batch_size != config.derived.global_batch_size) {
    config.train.global_batch_size = static_cast<int>(resumed->state.global_batch_size);
    try {
      config::resolve(config, ctx.world_size());
    } catch (const ConfigError&) {
      const std::int64_t global = resumed->state.global_batch_size, micro = config.train.batch_size;
      std::string fits;
      for (int n = 1; n <= 1024 && fits.size() < 60; ++n)
        if (global % (micro * n) == 0) fits += (fits.empty() ? "" : ", ") + std::to_string(n);
      throw Error("resuming " + resumed_from + " (written by " + std::to_string(resumed->state.world_size) +
                  " rank(s), global batch " + std::to_string(global) + ") on " + std::to_string(ctx.world_size()) +
                  " ranks: the global batch must stay " + std::to_string(global) + ", and " + std::to_string(global) +
                  " is not a multiple of train.batch_size x ranks = " + std::to_string(micro) + " x " +
                  std::to_string(ctx.world_size()) + "; run it on " + (fits.empty() ? "fewer" : fits) +
                  " rank(s), or set train.batch_size to a divisor of " + std::to_string(global) + " / ranks");
    }
    if (ctx.is_root())
      log::info("resuming a " + std::to_string(resumed->state.world_size) + "-rank run on " +
                std::to_string(ctx.world_size()) + " ranks: " + std::to_string(config.derived.num_D_accumulations) +
                " accumulations keep the global batch of " + std::to_string(config.derived.global_batch_size));
  }
  const auto& c = config;
  const auto& d = config.derived;
  if (ctx.is_root()) run::prepare_run_folder(config);
  ctx.barrier();

  // ---- Networks, optimizers, loader.
  torch::manual_seed(c.train.seed);
  Gan gan(config, device);
  if (ctx.is_root())
    log::info("Number of params in G: " + std::to_string(model::parameter_count(*gan.G)) +
              " D: " + std::to_string(model::parameter_count(*gan.D)));
  if (c.model.cross_replica)
    gan.G->set_stats_reducer([&collectives](const torch::Tensor& t) {
      return dist::differentiable_allreduce_sum(t, collectives);
    });
  data::LoaderOptions loader_options;
  loader_options.path = d.dataset_path;
  loader_options.batch_per_rank = d.loader_batch_per_rank;
  loader_options.load_in_mem = c.data.load_in_mem;
  loader_options.hflip = c.data.augment;
  loader_options.shuffle = c.data.shuffle;
  loader_options.seed = static_cast<std::uint64_t>(c.train.seed);
  loader_options.prefetch_batches = c.data.prefetch_batches;
  loader_options.resolution = d.resolution;
  loader_options.n_classes = d.n_classes;
  loader_options.pin_memory = c.data.pin_memory && device.is_cuda();
  data::Loader loader(loader_options, ctx.comm());

  ckpt::TrainingState state;
  if (resumed) {
    state = resumed->state;
    model::load_state_dict(*gan.G, resumed->G, true, resumed_from + "/G.h5");
    model::load_state_dict(*gan.D, resumed->D, true, resumed_from + "/D.h5");
    if (gan.G_ema) {
      if (resumed->G_ema.empty()) update_ema(gan.G, gan.G_ema, 0, 0, 0);
      else model::load_state_dict(*gan.G_ema, resumed->G_ema, true, resumed_from + "/G_ema.h5");
    }
    ckpt::restore_adam_state(*gan.G_optim, resumed->G_optim, resumed_from + "/G_optim.h5");
    ckpt::restore_adam_state(*gan.D_optim, resumed->D_optim, resumed_from + "/D_optim.h5");
    loader.restore(state.sampler);
    // Nothing in training draws from the default generator after initialisation; restored anyway,
    // so that a resumed process is in the state an uninterrupted one would be.
    if (state.world_size == ctx.world_size() && resumed->rng.defined()) {
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      generator.set_state(resumed->rng[ctx.rank()].clone());
    }
  }
  // Every rank starts from rank 0's model (identical already; this makes it a guarantee).
  dist::broadcast_state(*gan.G, collectives);
  dist::broadcast_state(*gan.D, collectives);
  if (gan.G_ema) dist::broadcast_state(*gan.G_ema, collectives);
  resumed.reset();

  const std::int64_t total = c.train.total_iterations > 0 ? c.train.total_iterations
                                                          : c.train.num_epochs * loader.batches_per_epoch();

  // The evaluation behind "best" checkpoints: IS/FID with Inception v3 (which_best IS or FID),
  // or the demo's classifier metric. Loaded now when this run will evaluate at all, so that a
  // missing weights or moments file fails at start, not hours in.
  std::optional<metrics::ClassifierFile> classifier;
  std::optional<metrics::InceptionV3> inception;
  std::optional<metrics::DatasetMoments> data_moments;
  const bool evaluating = c.eval.test_every > 0 && total / c.eval.test_every > state.itr / c.eval.test_every;
  if (evaluating && c.ckpt.which_best == "classifier") {
    classifier = metrics::load_classifier(c.eval.classifier.empty() ? metrics::default_classifier_path(config)
                                                                     : c.eval.classifier);
  } else if (evaluating) {
    inception = metrics::load_configured_inception(config);
    (*inception)->to(device);
    data_moments = metrics::load_reference_moments(config);
  }

  // ---- Logs, checkpoints, progress (rank 0).
  std::unique_ptr<ckpt::Writer> writer;
  log::JsonlWriter metrics_log, sv_log, events_log, eval_log, biggan_pytorch_log;
  if (ctx.is_root()) {
    writer = std::make_unique<ckpt::Writer>(
        folder.checkpoints, ckpt::Retention{c.ckpt.num_save_copies, c.ckpt.num_best_copies, c.ckpt.keep_every},
        c.ckpt.async_save);
    log::keep_lines_up_to(folder.logs + "/metrics.jsonl", state.itr);
    log::keep_lines_up_to(folder.logs + "/sv.jsonl", state.itr);
    log::keep_lines_up_to(folder.logs + "/eval.jsonl", state.itr);
    const std::string bp_log = folder.logs + "/" + d.experiment_name + "_log.jsonl";
    log::keep_lines_up_to(bp_log, state.itr);
    if (inception) biggan_pytorch_log = log::JsonlWriter(bp_log);
    eval_log = log::JsonlWriter(folder.logs + "/eval.jsonl");
    metrics_log = log::JsonlWriter(folder.logs + "/metrics.jsonl");
    sv_log = log::JsonlWriter(folder.logs + "/sv.jsonl");
    events_log = log::JsonlWriter(folder.logs + "/events.jsonl");
    events_log.write({{"time", wall_seconds()}, {"event", resumed_from.empty() ? "start" : "resume"}, {"itr", state.itr},
                      {"job_id", job_id()}, {"restart_count", restart_count()}, {"ranks", ctx.world_size()},
                      {"checkpoint", resumed_from}, {"host", ctx.host()}});
    if (!resumed_from.empty()) log::info("resumed from " + resumed_from + " at iteration " + std::to_string(state.itr));
  }
  const auto progress_style = log::parse_progress_style(c.log.pbar, log::stdout_is_terminal());
  std::unique_ptr<log::Progress> progress;
  if (ctx.is_root())
    progress = std::make_unique<log::Progress>("train", total, progress_style, state.itr, 30.0, c.log.print_every);

  // Fixed latents for the sample grid: the same on every run and after every resume.
  auto fixed_gen = at::detail::createCPUGenerator(noise_seed(c.train.seed, -1, 0));
  const int grid = std::min<int>(64, d.G_batch_size);
  const torch::Tensor fixed_z = torch::randn({grid, d.dim_z}, fixed_gen);
  const torch::Tensor fixed_y = torch::randint(0, d.n_classes, {grid}, fixed_gen, torch::kInt64);

  // Latents are a pure function of (seed, iteration, micro-step, global slot), with the slot
  // rank * accumulations + accumulation: the same global batch draws the same z and y on any
  // number of ranks (2 ranks x 1 accumulation = 1 rank x 2), and a resume has no stream to restore.
  const NoiseSource noise = [&](const MicroStep& m, std::int64_t n) {
    const int accumulations = m.phase == MicroStep::Phase::G ? d.num_G_accumulations : d.num_D_accumulations;
    const std::int64_t slot = static_cast<std::int64_t>(ctx.rank()) * accumulations + m.acc;
    auto gen = at::detail::createCPUGenerator(latent_seed(c.train.seed, state.itr, m, slot));
    return std::make_pair(torch::randn({n, d.dim_z}, gen), torch::randint(0, d.n_classes, {n}, gen, torch::kInt64));
  };

  // Checkpoint: host copies on every rank's behalf (RNG states gathered), written by rank 0.
  // A periodic save takes the next slot of the copies ring, a new best the next of the best ring.
  const ckpt::Retention retention{c.ckpt.num_save_copies, c.ckpt.num_best_copies, c.ckpt.keep_every};
  std::int64_t last_saved_itr = resumed_from.empty() ? -1 : state.itr;
  const auto save_checkpoint = [&](bool best) {
    const ckpt::Slots slots = ckpt::take_slots(state, best, retention);
    last_saved_itr = state.itr;
    torch::Tensor rng = collectives.allgather(at::detail::getDefaultCPUGenerator().get_state());
    if (!ctx.is_root()) return;
    ckpt::Contents spare = writer->reclaim();  // the previous save's host buffers, once it is written
    ckpt::Contents contents;
    contents.state = state;
    contents.state.sampler = loader.state();
    contents.state.world_size = ctx.world_size();
    contents.state.num_D_accumulations = d.num_D_accumulations;
    contents.state.num_G_accumulations = d.num_G_accumulations;
    contents.state.global_batch_size = d.global_batch_size;
    contents.state.config_yaml = config::to_yaml(config, false);
    contents.state.code_version = git_hash();
    contents.state.seconds_trained = state.seconds_trained;
    contents.G = ckpt::host_copy(*gan.G, std::move(spare.G));
    contents.D = ckpt::host_copy(*gan.D, std::move(spare.D));
    if (gan.G_ema) contents.G_ema = ckpt::host_copy(*gan.G_ema, std::move(spare.G_ema));
    contents.G_optim = ckpt::adam_state(*gan.G_optim, std::move(spare.G_optim));
    contents.D_optim = ckpt::adam_state(*gan.D_optim, std::move(spare.D_optim));
    contents.rng = rng;
    writer->save(std::move(contents), slots);
  };

  const auto write_samples = [&]() {
    model::Generator& which_G = gan.G_ema && c.train.use_ema ? gan.G_ema : gan.G;
    const KeepBuffers keep(*which_G);
    if (c.eval.accumulate_stats)
      sample::accumulate_standing_stats(which_G, config, c.eval.num_standing_accumulations, d.G_batch_size,
                                        standing_seed(c.train.seed, state.itr));
    if (!ctx.is_root()) return;
    if (c.eval.G_eval_mode || c.eval.accumulate_stats) which_G->eval();
    const std::string dir = folder.samples + "/" + std::to_string(state.itr);
    fs::create_directories(dir);
    sample::write_grid(folder.samples + "/fixed_samples" + std::to_string(state.itr) + ".png",
                       sample::generate(which_G, fixed_z, fixed_y, c.train.batch_size),
                       static_cast<int>(std::sqrt(static_cast<double>(grid))));
    sample::SheetSettings sheets;
    sheets.classes_per_sheet = d.classes_per_sheet;
    sheets.samples_per_class = c.sample.samples_per_class;
    sheets.interp_rows = c.sample.interp_rows;
    sheets.interp_midpoints = c.sample.interp_midpoints;
    sheets.batch_size = c.train.batch_size;
    sheets.seed = static_cast<std::uint64_t>(c.train.seed);
    sample::write_sheets(which_G, config, dir, sheets);
  };

  // ---- The loop.
  double iteration_seconds = 0;
  int exit_code = 0;
  std::string stop_reason = "finished";
  while (state.itr < total) {
    const auto t0 = Clock::now();
    const double waited_before = loader.wait_seconds();
    const data::Batch batch = loader.next();
    const double data_wait = loader.wait_seconds() - waited_before;
    ++state.itr;
    state.epoch = batch.after.epoch;

    // One iteration: D steps, G step (gradients averaged across ranks inside).
    gan.G->train();
    gan.D->train();
    if (gan.G_ema) gan.G_ema->train();
    const IterationMetrics m =
        train_iteration(gan, config, batch.x.to(device, /*non_blocking=*/batch.x.is_pinned()),
                        batch.y.to(device, /*non_blocking=*/batch.y.is_pinned()), noise, collectives);
    if (gan.G_ema) update_ema(gan.G, gan.G_ema, c.train.ema_decay, state.itr, c.train.ema_start);
    // Local batch statistics differ per rank; the model must not.
    if (!c.model.cross_replica) average_bn_statistics(*gan.G, collectives);
    if (fault_armed("perturb_parameter", ctx.rank(), state.itr)) {
      torch::NoGradGuard no_grad;
      gan.G->parameters().front().add_(1e-3);
    }

    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    state.seconds_trained += seconds;
    iteration_seconds = iteration_seconds == 0 ? seconds : 0.9 * iteration_seconds + 0.1 * seconds;
    for (const double v : {m.G_loss, m.D_loss_real, m.D_loss_fake, m.G_loss_mean, m.D_loss_real_mean, m.D_loss_fake_mean})
      if (!std::isfinite(v))
        throw Error("non-finite loss at iteration " + std::to_string(state.itr) + " (G_loss " + std::to_string(m.G_loss) +
                    ", D_loss_real " + std::to_string(m.D_loss_real) + ", D_loss_fake " + std::to_string(m.D_loss_fake) +
                    "); the checkpoints in " + folder.checkpoints + " hold the last good state");

    // Logs (rank 0).
    if (ctx.is_root()) {
      metrics_log.write({{"itr", state.itr},
                         {"epoch", state.epoch},
                         {"samples_seen", batch.after.samples_seen},
                         {"G_loss", m.G_loss},
                         {"D_loss_real", m.D_loss_real},
                         {"D_loss_fake", m.D_loss_fake},
                         {"G_loss_mean", m.G_loss_mean},
                         {"D_loss_real_mean", m.D_loss_real_mean},
                         {"D_loss_fake_mean", m.D_loss_fake_mean},
                         {"G_grad_norm", m.G_grad_norm},
                         {"D_grad_norm", m.D_grad_norm},
                         {"G_lr", c.optim.G_lr},
                         {"D_lr", c.optim.D_lr},
                         {"seconds_per_iteration", seconds},
                         {"images_per_second", d.images_per_iteration / seconds},
                         {"data_wait_seconds", data_wait},
                         {"time", wall_seconds()}});
      if (c.log.sv_log_interval > 0 && state.itr % c.log.sv_log_interval == 0) {
        nlohmann::json sv{{"itr", state.itr}};
        for (const auto& [name, value] : model::singular_values(*gan.G)) sv["G"][name] = value;
        for (const auto& [name, value] : model::singular_values(*gan.D)) sv["D"][name] = value;
        sv_log.write(sv);
      }
      char detail[160];
      std::snprintf(detail, sizeof detail, "G_loss %.4f D_real %.4f D_fake %.4f", m.G_loss, m.D_loss_real,
                    m.D_loss_fake);
      progress->update(state.itr, detail);
    }

    // Every rank holds the same model: checked every consistency_check_every iterations.
    if (c.dist.consistency_check_every > 0 && state.itr % c.dist.consistency_check_every == 0) {
      std::string bad;
      for (const auto& [net_name, net] : {std::pair<const char*, torch::nn::Module*>{"G", gan.G.get()},
                                          std::pair<const char*, torch::nn::Module*>{"D", gan.D.get()}})
        for (const auto& divergence : dist::divergent_tensors(*net, collectives)) {
          std::string ranks;
          for (const int r : divergence.ranks) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
          bad += std::string(bad.empty() ? "" : "; ") + net_name + " " + divergence.tensor + " on rank" +
                 (divergence.ranks.size() > 1 ? "s " : " ") + ranks;
        }
      if (!bad.empty())
        throw Error("ranks diverged at iteration " + std::to_string(state.itr) +
                    ": these tensors differ from rank 0's: " + bad);
    }

    // Evaluation every test_every iterations (spec §3.8); an improvement is saved in the best ring.
    if (evaluating && state.itr % c.eval.test_every == 0) {
      model::Generator& which_G = gan.G_ema && c.train.use_ema ? gan.G_ema : gan.G;
      std::optional<KeepBuffers> keep(std::in_place, *which_G);
      if (c.eval.accumulate_stats)
        sample::accumulate_standing_stats(which_G, config, c.eval.num_standing_accumulations, d.G_batch_size,
                                          standing_seed(c.train.seed, state.itr));
      else if (c.eval.G_eval_mode)
        which_G->eval();
      const auto t_eval = Clock::now();
      bool improved = false;
      nlohmann::json line{{"itr", state.itr}};
      std::string summary;
      if (classifier) {
        const auto score = metrics::score_generator(which_G, *classifier, c.eval.num_classifier_samples,
                                                    c.train.batch_size, static_cast<std::uint64_t>(c.train.seed), collectives);
        improved = score.accuracy > state.best_metric;
        if (improved) state.best_metric = score.accuracy;
        line.update({{"accuracy", score.accuracy}, {"frechet", score.frechet}, {"samples", score.samples}});
        summary = "classifier accuracy " + std::to_string(score.accuracy) + ", Fréchet distance " + std::to_string(score.frechet);
      } else {
        // Training evaluates with standard latents (sample.* is for `biggan sample`).
        auto so = metrics::sample_options(config, static_cast<std::uint64_t>(c.train.seed));
        so.z_var = 1.0;
        so.truncation = 0.0;
        const auto scores = metrics::evaluate_generator(which_G, config, *inception, data_moments ? &*data_moments : nullptr,
                                                        so, collectives);
        improved = c.ckpt.which_best == "IS" ? scores.inception_score.mean > state.best_IS
                                             : (data_moments && scores.FID < state.best_FID);
        state.best_IS = std::max(state.best_IS, scores.inception_score.mean);
        if (data_moments) state.best_FID = std::min(state.best_FID, scores.FID);
        line.update(metrics::to_json(scores));
        summary = "PYTORCH UNOFFICIAL Inception Score is " + std::to_string(scores.inception_score.mean) + " +/- " +
                  std::to_string(scores.inception_score.std) + (data_moments ? ", FID is " + std::to_string(scores.FID) : "");
        if (ctx.is_root()) biggan_pytorch_log.write_line(metrics::biggan_pytorch_test_log_line(state.itr, scores, wall_seconds()));
      }
      keep.reset();  // the model as it was before evaluating, before a best checkpoint stores it
      if (ctx.is_root()) {
        line.update({{"best", improved}, {"seconds", std::chrono::duration<double>(Clock::now() - t_eval).count()},
                     {"time", wall_seconds()}});
        eval_log.write(line);
        log::info("itr " + std::to_string(state.itr) + ": " + summary + (improved ? " (best so far)" : ""));
      }
      if (improved) save_checkpoint(true);
    }

    // Checkpoint and sample sheets every save_every iterations.
    if (c.ckpt.save_every > 0 && state.itr % c.ckpt.save_every == 0) {
      save_checkpoint(false);
      write_samples();
    }

    // Stop on a signal or before the deadline: every rank agrees at this boundary.
    const double margin = 2 * ((writer ? writer->last_write_seconds() : 0) + iteration_seconds) + 30;
    const bool deadline = seconds_until_deadline(start_wall, c.ckpt.walltime_minutes) < margin;
    // The reason travels in the same allreduce: the rank that got the signal may not be rank 0.
    torch::Tensor stop = torch::tensor({static_cast<std::int64_t>(stop_requested() || deadline),
                                        static_cast<std::int64_t>(stop_signal_number()), static_cast<std::int64_t>(deadline)},
                                       torch::kInt64);
    collectives.allreduce_(stop, dist::ReduceOp::max);
    if (stop[0].item<std::int64_t>() != 0 && state.itr < total) {
      stop_reason = stop[2].item<std::int64_t>() != 0 ? "deadline" : "signal " + std::to_string(stop[1].item<std::int64_t>());
      exit_code = kRequeueExitCode;
      break;
    }
  }

  // ---- The end: a final checkpoint unless this iteration already has one (saved in the loop, or
  // the checkpoint this run resumed from and trained nothing after: saving that again would
  // give its folder a second slot of the copies ring), then wait for it.
  const bool save_final = state.itr != last_saved_itr;
  if (save_final) save_checkpoint(false);
  if (writer) writer->wait();
  if (exit_code == 0 && save_final) write_samples();
  if (ctx.is_root()) {
    progress->finish(state.itr);
    events_log.write({{"time", wall_seconds()}, {"event", exit_code == 0 ? "finish" : "stop"}, {"reason", stop_reason},
                      {"itr", state.itr}, {"job_id", job_id()}, {"restart_count", restart_count()}});
    log::info(exit_code == 0 ? "training finished at iteration " + std::to_string(state.itr)
                             : "stopped at iteration " + std::to_string(state.itr) + " (" + stop_reason +
                                   "); checkpoint written, exit code " + std::to_string(kRequeueExitCode) +
                                   " asks for a requeue");
  }
  ctx.barrier();
  return exit_code;
}

}  // namespace biggan::train
