#include "run/run_folder.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"

namespace biggan::run {

namespace fs = std::filesystem;

RunFolder RunFolder::at(const std::string& root) {
  RunFolder f;
  f.root = root;
  f.config_file = root + "/config.yaml";
  f.logs = root + "/logs";
  f.checkpoints = root + "/checkpoints";
  f.samples = root + "/samples";
  return f;
}

namespace {

// Whether the run that config.yaml records left anything in the folder: a checkpoint (a partial
// or damaged one too), a sample, or a log other than the start-up's events and rank logs (a
// logged iteration or evaluation, an archive of superseded lines). Anything unknown counts.
bool holds_results(const RunFolder& folder) {
  std::error_code ec;
  for (const auto& dir : {folder.checkpoints, folder.samples})
    if (!fs::is_empty(dir, ec) || ec) return true;
  for (const auto& entry : fs::directory_iterator(folder.logs, ec)) {
    if (!entry.is_regular_file(ec) || ec) return true;
    const std::string name = entry.path().filename().string();
    const bool start_up_log = name == "events.jsonl" || (name.rfind("rank", 0) == 0 && entry.path().extension() == ".log");
    if (!start_up_log && (entry.file_size(ec) != 0 || ec)) return true;
  }
  return static_cast<bool>(ec);
}

// config.superseded.yaml, or the first config.superseded.N.yaml not taken: none is overwritten.
std::string free_superseded_name(const RunFolder& folder) {
  std::string name = folder.root + "/config.superseded.yaml";
  for (int n = 2; fs::exists(name); ++n) name = folder.root + "/config.superseded." + std::to_string(n) + ".yaml";
  return name;
}

}  // namespace

PreparedRunFolder prepare_run_folder(const config::Config& config, OtherRun other_run) {
  PreparedRunFolder prepared{RunFolder::at(config.derived.run_dir), "", ""};
  const RunFolder& folder = prepared.folder;
  std::error_code ec;
  for (const auto& dir : {folder.root, folder.logs, folder.checkpoints, folder.samples}) {
    fs::create_directories(dir, ec);
    if (ec) throw Error("cannot create run folder " + dir + ": " + ec.message());
  }
  const std::string resolved = config::to_yaml(config, /*with_derived=*/false);
  if (fs::exists(folder.config_file)) {
    // Compare what defines the run, not the bytes: reload the stored YAML with the same world size.
    config::Config stored;
    try {
      config::apply_yaml_file(stored, folder.config_file);
      config::resolve(stored, config.derived.world_size);
    } catch (const ConfigError& e) {
      // Edited by hand or damaged (we write it atomically). Replacing it would hide what the
      // run was; the checkpoints say it too.
      throw Error(std::string(e.what()) + "\n" + folder.config_file +
                  " is this run folder's record of its config and cannot be read; nothing was changed. Each "
                  "checkpoint's state.json holds the config it was written with (its config_yaml): restore the "
                  "file from there, or move it aside to start this folder again with the config given now");
    }
    if (config::run_identity_yaml(stored) != config::run_identity_yaml(config)) {
      std::string changed;
      for (const auto& d : config::run_identity_differences(stored, config)) changed += (changed.empty() ? "" : ", ") + d;
      if (other_run == OtherRun::take_over_unused && !holds_results(folder)) {
        prepared.superseded_config = free_superseded_name(folder);
        prepared.changes = changed;
        write_file_atomically(prepared.superseded_config, read_file(folder.config_file));
        write_file_atomically(folder.config_file, resolved);
        return prepared;
      }
      const std::string candidate = folder.root + "/config.new.yaml";
      write_file_atomically(candidate, resolved);
      throw Error("run folder " + folder.root + " already holds a run with a different config (" + folder.config_file +
                  "; changed: " + changed + "); the new config is in " + candidate +
                  ". Compare them, or give this run its own folder with --set paths.experiment_name=NAME");
    }
    const std::string previous = config::to_yaml(stored, false);
    if (previous == resolved) return prepared;
    // Harmless changes (logging, intervals, iteration budget): kept, with the old file beside it.
    write_file_atomically(folder.root + "/config.previous.yaml", read_file(folder.config_file));
  }
  write_file_atomically(folder.config_file, resolved);
  return prepared;
}

}  // namespace biggan::run
