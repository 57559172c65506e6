// The run folder: <runs_root>/<experiment>/ with the resolved config.yaml and the logs/,
// checkpoints/ and samples/ folders. One place owns this layout.
#pragma once

#include <string>

#include "config/config.h"

namespace biggan::run {

struct RunFolder {
  std::string root;
  std::string config_file;   // root/config.yaml: the resolved config of the run
  std::string logs;          // root/logs
  std::string checkpoints;   // root/checkpoints
  std::string samples;       // root/samples

  static RunFolder at(const std::string& root);
};

// Creates the folders and writes config.yaml (atomically). Call on rank 0 only.
// An existing run folder is kept: its config.yaml must describe the same run, so that one
// folder never mixes two experiments; otherwise this throws and names both configs.
RunFolder prepare_run_folder(const config::Config& config);

}  // namespace biggan::run
