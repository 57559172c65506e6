// The typed configuration: parsed once from YAML files and --set overrides, validated, then
// passed by const reference. Every value knows where it came from (file:line, --set or
// default), so errors name the file, line and key at fault.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/sections.h"

namespace biggan::config {

// Values computed from the config (and the world size) in one place: resolve().
struct Derived {
  int world_size = 1;
  int resolution = 0;
  int n_classes = 0;
  int classes_per_sheet = 0;
  std::string dataset_path;          // the HDF5 file to read
  std::string data_root;             // after base_root
  std::string runs_root;             // after base_root
  int G_batch_size = 0;              // max(G_batch_size, batch_size)
  int standing_batches = 0;          // standing-statistics batches to sample with: 0 without accumulate_stats
  int num_D_accumulations = 1;       // per rank; derived from global_batch_size when that is set
  int num_G_accumulations = 1;
  std::int64_t global_batch_size = 0;     // real images per D step, all ranks: batch x D accs x ranks
  std::int64_t global_G_batch_size = 0;   // fakes per G step, all ranks: G_batch x G accs x ranks
  std::int64_t loader_batch_per_rank = 0; // real images one rank consumes per iteration (spec §3.2)
  std::int64_t images_per_iteration = 0;  // real images all ranks consume per iteration
  int dim_z = 0;                     // after hier rounding
  int shared_dim = 0;                // shared_dim or dim_z (before rounding, as the original)
  int num_G_blocks = 0;              // G stages (BigGAN-deep: stages, each G_depth blocks)
  int num_slots = 1;                 // hier: z chunks (blocks + 1)
  int z_chunk_size = 0;
  std::vector<int> G_attn;           // attention resolutions, parsed
  std::vector<int> D_attn;
  std::vector<double> truncation_curve;  // sample.sample_trunc_curves' values, start to end
  std::string experiment_name;
  std::string run_dir;               // <runs_root>/<experiment_name>
};

struct Config {
  DataConfig data;
  ModelConfig model;
  OptimConfig optim;
  TrainConfig train;
  DistConfig dist;
  CkptConfig ckpt;
  EvalConfig eval;
  SampleConfig sample;
  LogConfig log;
  PathsConfig paths;
  FinetuneConfig finetune;

  Derived derived;                   // filled by resolve()
  std::map<std::string, std::string> origin;  // "section.key" -> "file:line" or "--set"; absent: default
  std::vector<std::string> warnings; // harmless oddities found by resolve(), printed at start

  bool is_set(const std::string& key) const { return origin.count(key) != 0; }
  // "file:line" where key was set, or "default".
  std::string where(const std::string& key) const;
};

// Calls f(section_name, section_struct) for every section, in file order.
template <class C, class F>
void for_each_section(C& c, F&& f) {
  f("data", c.data);
  f("model", c.model);
  f("optim", c.optim);
  f("train", c.train);
  f("dist", c.dist);
  f("ckpt", c.ckpt);
  f("eval", c.eval);
  f("sample", c.sample);
  f("log", c.log);
  f("paths", c.paths);
  f("finetune", c.finetune);
}

std::vector<std::string> section_names();
std::vector<std::string> keys_of_section(const std::string& section);

// Apply a YAML file on top of `config` (later files win). Throws ConfigError naming file:line:key.
void apply_yaml_file(Config& config, const std::string& path);
// Apply YAML text; `source` names it in errors (a file name, or "<string>").
void apply_yaml_text(Config& config, const std::string& text, const std::string& source);
// Apply "section.key=value" (the value is parsed as YAML, so types are checked the same way).
// `source` names where the value came from in errors: "--set", or a file it was read from.
void apply_override(Config& config, const std::string& assignment, const std::string& source = "--set");

// Validate everything and fill config.derived. world_size comes from MPI.
void resolve(Config& config, int world_size);

// Files, then overrides, not yet resolved (a caller may fill in more before resolve()).
Config apply_all(const std::vector<std::string>& files, const std::vector<std::string>& overrides);

// Files, then overrides, then resolve().
Config load(const std::vector<std::string>& files, const std::vector<std::string>& overrides, int world_size);

// The resolved config as YAML that load() accepts again; derived values follow as comments.
std::string to_yaml(const Config& config, bool with_derived = true);

// The part of the config that defines a run (model, data, optimizer, batch arithmetic), as YAML.
// Logging, evaluation, sampling, checkpointing, distribution settings, the iteration budget and
// where the data lives may change between a run and its resumption; these may not.
std::string run_identity_yaml(const Config& config);
// The keys whose values differ between two configs' run identities, as "section.key: a -> b".
std::vector<std::string> run_identity_differences(const Config& before, const Config& now);

// Parses "64_32" into {64, 32}; "0" or "" into {}. Throws Error on anything else.
std::vector<int> parse_resolution_list(const std::string& text);

}  // namespace biggan::config
