#include "cli/loaded_generator.h"

#include "config/module_options.h"
#include "core/error.h"
#include "distributed/collectives.h"
#include "logging/log.h"
#include "model/state_dict.h"
#include "run/run_folder.h"

namespace biggan::cli {

void add_checkpoint_options(po::options_description& options) {
  options.add_options()("checkpoint", po::value<std::string>(), "a checkpoint folder (default: the run's newest valid one)")
      ("best", po::bool_switch(),
       "the run's best checkpoint instead: the newest valid one of the best ring, which training saves whenever an "
       "evaluation (eval.test_every, eval.test_at) beats every earlier one")
      ("which", po::value<std::string>()->default_value("auto"), "G | G_ema | auto (G_ema when the run uses it)");
}

CheckpointChoice checkpoint_choice(const po::variables_map& vm) {
  CheckpointChoice choice;
  if (vm.count("checkpoint")) choice.folder = vm["checkpoint"].as<std::string>();
  choice.best = vm.count("best") && vm["best"].as<bool>();
  if (choice.best && !choice.folder.empty())
    throw UsageError("--best and --checkpoint both choose the checkpoint; give one of them");
  choice.which = vm["which"].as<std::string>();
  return choice;
}

LoadedGenerator load_generator(const config::Config& config, const std::string& run_dir, const CheckpointChoice& choice) {
  const std::string& which = choice.which;
  if (which != "G" && which != "G_ema" && which != "auto") throw UsageError("--which: G | G_ema | auto, got '" + which + "'");
  LoadedGenerator out;
  ckpt::Contents contents;
  if (!choice.folder.empty()) {
    out.checkpoint = choice.folder;
    contents = ckpt::load(choice.folder);
  } else {
    const auto folder = run::RunFolder::at(run_dir);
    const auto warn = [](const std::string& w) {
      if (distributed::process_context().is_root()) logging::warn(w);
    };
    auto loaded = choice.best ? ckpt::load_best_valid(folder.checkpoints, warn)
                              : ckpt::load_newest_valid(folder.checkpoints, warn);
    if (!loaded && choice.best)
      throw Error(run_dir + ": no valid best checkpoint in " + folder.checkpoints +
                  " (training keeps one when an evaluation improves on the earlier ones; is ckpt.num_best_copies 0, "
                  "or eval.test_every 0 with no eval.test_at?)");
    if (!loaded) throw Error(run_dir + ": no valid checkpoint");
    out.checkpoint = loaded->path;
    contents = std::move(loaded->contents);
  }
  out.ema = which == "G_ema" || (which == "auto" && config.train.ema && config.train.use_ema);
  if (out.ema && contents.G_ema.empty()) throw Error(out.checkpoint + ": has no G_ema (use --which G)");
  out.G = model::Generator(config::generator_options(config));
  model::load_state_dict(*out.G, out.ema ? contents.G_ema : contents.G, true, out.checkpoint);
  out.G->to(distributed::rank_device(distributed::process_context()));
  out.state = contents.state;
  return out;
}

}  // namespace biggan::cli
