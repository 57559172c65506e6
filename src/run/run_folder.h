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

// What prepare_run_folder does with a folder whose config.yaml records a different run.
enum class OtherRun {
  refuse,            // always an error
  take_over_unused,  // an error only if the folder holds results of that run; only under run.lock
};

struct PreparedRunFolder {
  RunFolder folder;
  std::string superseded_config;  // where a replaced config.yaml was kept ("" when none was replaced)
  std::string changes;            // what differed from it ("model.G_ch: 16 -> 32, ...")
};

// Creates the folders and writes config.yaml (atomically). Call on rank 0 only.
// An existing run folder is kept: its config.yaml must describe the same run, so that one
// folder never mixes two experiments; otherwise this throws and names both configs. The
// exception is a folder that holds no checkpoint, sample or logged iteration (a start that failed
// before its first iteration, e.g. out of memory in its first step): with take_over_unused its
// config.yaml is kept as config.superseded[.N].yaml and replaced, so that the corrected command
// runs. The caller must hold the folder's lock, so that no running process is starting there.
PreparedRunFolder prepare_run_folder(const config::Config& config, OtherRun other_run = OtherRun::refuse);

}  // namespace biggan::run
