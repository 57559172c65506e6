// A trained generator from a run folder, for the commands that sample or score one (eval,
// sample): the chosen or newest valid checkpoint, G or G_ema, loaded strictly, on this rank's
// device.
#pragma once

#include <string>

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

// `which`: G | G_ema | auto (G_ema when the run trains and uses one). `checkpoint` empty: the
// newest valid one in the run's checkpoints folder.
LoadedGenerator load_generator(const config::Config& config, const std::string& run_dir, const std::string& checkpoint,
                                const std::string& which);

}  // namespace biggan::cli
