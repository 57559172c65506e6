// A trained generator from a run folder, for the commands that sample or score one (eval,
// sample): the chosen, best or newest valid checkpoint, G or G_ema, loaded strictly, on this
// rank's device.
#pragma once

#include <string>

#include "cli/options.h"
#include "config/config.h"
#include "ckpt/checkpoint.h"
#include "model/networks.h"

namespace biggan::cli {

struct LoadedGenerator {
  model::Generator G{nullptr};
  std::string checkpoint;
  ckpt::TrainingState state;
  bool ema = false;
};

// Which checkpoint of a run to load: `folder` when given (--checkpoint), else the best one
// (--best: ckpt::load_best_valid), else the newest valid one.
struct CheckpointChoice {
  std::string folder;
  bool best = false;
  std::string which = "auto";  // G | G_ema | auto (G_ema when the run trains and uses one)
};

// --checkpoint, --best and --which, worded the same for every command that loads a generator.
void add_checkpoint_options(po::options_description& options);
// Reads them; --checkpoint with --best is a UsageError.
CheckpointChoice checkpoint_choice(const po::variables_map& vm);

LoadedGenerator load_generator(const config::Config& config, const std::string& run_dir, const CheckpointChoice& choice);

}  // namespace biggan::cli
