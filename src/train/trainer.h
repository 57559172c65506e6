// `biggan train`: the distributed training loop.
#pragma once

#include <string>

#include "config/config.h"

namespace biggan::train {

struct ResumeOptions {
  enum class Resume { automatic, never, from_path };
  Resume resume = Resume::automatic;
  std::string resume_from;  // a checkpoint folder (Resume::from_path)
};

// Trains until the configured end (returns 0), or until a stop signal or the deadline
// (checkpoints, returns kRequeueExitCode). Errors throw.
int train_gan(const config::Config& config, const ResumeOptions& options);

}  // namespace biggan::train
