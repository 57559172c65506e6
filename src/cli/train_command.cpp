// `biggan train`: resolves the config, prepares the run folder and trains (resuming by default).
#include <csignal>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/fault_injection.h"
#include "distributed/context.h"
#include "logging/log.h"
#include "run/run_folder.h"
#include "train/stop.h"
#include "train/trainer.h"

namespace biggan::cli {

namespace {

std::string summary_table(const config::Config& c) {
  const auto& d = c.derived;
  std::ostringstream s;
  s << "experiment       " << d.experiment_name << "\n"
    << "run folder       " << d.run_dir << "\n"
    << "dataset          " << c.data.dataset << " (" << d.resolution << " px, " << d.n_classes << " classes) from "
    << d.dataset_path << "\n"
    << "model            " << config::choice_name(c.model.model) << " G_ch " << c.model.G_ch << ", D_ch " << c.model.D_ch << ", dim_z "
    << d.dim_z << "\n"
    << "ranks            " << d.world_size << "\n"
    << "global batch     " << d.global_batch_size << " = micro-batch " << c.train.batch_size << " x "
    << d.num_D_accumulations << " accumulations x " << d.world_size << " ranks\n"
    << "per iteration    " << c.train.num_D_steps << " D steps, 1 G step, " << d.images_per_iteration
    << " real images\n";
  return s.str();
}

}  // namespace

namespace {

// <run>/logs/rank<N>.log for log.rank_files (the folder made here: the run folder is not yet).
std::string rank_log_file(const config::Config& config, int rank) {
  const std::string logs = run::RunFolder::at(config.derived.run_dir).logs;
  std::filesystem::create_directories(logs);
  return logs + "/rank" + std::to_string(rank) + ".log";
}

}  // namespace

int train_command(const Args& args) {
  const CommandSpec spec{
      "train", "[options]", "Train BigGAN. Runs single-process, under mpirun -np N, or under srun (one rank per GPU).",
      "Examples:\n"
      "  biggan train --config configs/fmnist_demo.yaml\n"
      "  biggan train --config configs/biggan128_bs256x8.yaml --set train.batch_size=128 --print-config\n"
      "  mpirun -np 2 biggan train --config configs/fmnist_demo.yaml\n"};
  po::options_description options = config_options();
  po::options_description own("Training");
  own.add_options()
      ("print-config", "print the fully resolved config as YAML and exit")
      ("print-run-dir", "print the run folder (absolute path) and exit; slurm/train.sbatch uses it for its events log")
      ("dry-run", "resolve the config and create the run folder, then exit without training")
      ("no-resume", "refuse to start when the run folder already has checkpoints (default: resume from the newest valid one)")
      ("resume-from", po::value<std::string>(), "resume from this checkpoint folder")
      ("init-from", po::value<std::string>(),
       "start a new run from pretrained weights: a BigGAN-PyTorch weights folder, a checkpoint or a run folder "
       "(finetune.init_from; see finetune.* for classes and FreezeD)")
      ("world-size", po::value<int>(),
       "resolve as if running on N ranks (for --print-config and --dry-run; default: the MPI world size)");
  options.add(own);
  const auto vm = parse_command(spec, options, args);
  if (!vm) return 0;

  train::hold_stop_signals();  // before MPI starts: a stop request during the start-up is kept
  auto& ctx = distributed::process_context();
  if (fault_armed("stop_signal_during_start", ctx.rank())) std::raise(SIGUSR2);
  configure_logging();
  int world_size = ctx.world_size();
  if (vm->count("world-size")) {
    world_size = (*vm)["world-size"].as<int>();
    if (world_size < 1) throw UsageError("--world-size must be >= 1, got " + std::to_string(world_size));
    if (!vm->count("print-config") && !vm->count("dry-run") && !vm->count("print-run-dir"))
      throw UsageError("--world-size only applies with --print-config, --print-run-dir or --dry-run; the real world size comes from MPI");
  }
  std::vector<std::string> imported;
  if (vm->count("init-from")) {
    if (vm->count("resume-from")) throw UsageError("--init-from and --resume-from exclude each other: one starts a new run, the other continues one");
    std::string path = (*vm)["init-from"].as<std::string>(), quoted;
    for (const char ch : path) quoted += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
    imported.push_back("finetune.init_from=\"" + quoted + "\"");
  }
  const config::Config config = load_config(*vm, world_size, imported);
  const bool training = !vm->count("print-run-dir") && !vm->count("print-config") && !vm->count("dry-run");
  configure_logging(config.log.level, training && config.log.rank_files ? rank_log_file(config, ctx.rank()) : "");

  if (vm->count("print-run-dir")) {
    logging::print0(std::filesystem::absolute(config.derived.run_dir).lexically_normal().string());
    return 0;
  }
  if (vm->count("print-config")) {
    logging::print0(config::to_yaml(config));
    for (const auto& w : config.warnings) logging::warn(w);
    return 0;
  }
  for (const auto& w : config.warnings) logging::warn(w);
  logging::print0(summary_table(config));
  if (vm->count("dry-run")) {
    if (ctx.is_root()) run::prepare_run_folder(config);
    ctx.barrier();
    logging::info("dry run: config resolved and run folder ready at " + config.derived.run_dir);
    return 0;
  }
  train::ResumeOptions resume;
  if (vm->count("no-resume") && vm->count("resume-from")) throw UsageError("--no-resume and --resume-from exclude each other");
  if (vm->count("no-resume")) resume.resume = train::ResumeOptions::Resume::never;
  if (vm->count("resume-from")) {
    resume.resume = train::ResumeOptions::Resume::from_path;
    resume.resume_from = (*vm)["resume-from"].as<std::string>();
  }
  return train::train_gan(config, resume);
}

}  // namespace biggan::cli
