// `biggan ckpt`: list, verify and inspect checkpoints; import and export BigGAN-PyTorch
// weights folders.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <set>
#include <nlohmann/json.hpp>

#include "ckpt/checkpoint.h"
#include "ckpt/interchange.h"
#include "ckpt/pretrained.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "config/biggan_pytorch_flags.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "io/pth.h"
#include "logging/log.h"
#include "run/run_folder.h"
#include "run/run_lock.h"

namespace biggan::cli {

namespace {

namespace fs = std::filesystem;

// A run folder, its checkpoints/ folder, or one checkpoint: the checkpoint folders inside.
std::vector<std::string> checkpoints_of(const std::string& path) {
  if (fs::exists(path + "/manifest.json") || fs::exists(path + "/state.json")) return {path};
  if (fs::is_directory(path + "/checkpoints")) return ckpt::list(path + "/checkpoints");
  if (fs::is_directory(path)) return ckpt::list(path);
  throw Error(path + ": no such run folder or checkpoint");
}

// The roles column of `ckpt list`; an unreadable index is counted in `index_problems` (named once).
std::string roles_of(const std::string& checkpoint, std::set<std::string>& index_problems) {
  try {
    const auto roles = ckpt::indexed_roles(checkpoint);
    if (!roles) return "(unreferenced)";
    std::string text;
    for (const auto& r : *roles) text += (text.empty() ? "" : ",") + r;
    return text;
  } catch (const Error& e) {
    index_problems.insert(e.what());
    return "(index unreadable)";
  }
}

std::uintmax_t folder_bytes(const std::string& dir) {
  std::uintmax_t total = 0;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.is_regular_file()) total += f.file_size();
  return total;
}

config::Config config_of(const ckpt::Contents& c, const std::string& where) {
  config::Config config;
  try {
    config::apply_yaml_text(config, c.state.config_yaml, where + "/state.json:config_yaml");
    config::resolve(config, c.state.world_size > 0 ? c.state.world_size : 1);
  } catch (const Error& e) {
    throw Error(where + ": the stored config does not resolve: " + e.what());
  }
  return config;
}

}  // namespace

int ckpt_command(const Args& args) {
  CommandSpec spec{
      "ckpt", "<list|verify|inspect|import|export> PATH... [options]",
      "Manage checkpoints: list and verify them, print the training state, convert to and from BigGAN-PyTorch "
      "weights folders.",
      "  list RUN...              checkpoints of runs, newest first, with roles, size and validity\n"
      "  verify PATH...           check manifests and CRCs; exit 1 when any checkpoint is damaged\n"
      "                           or a PATH holds none\n"
      "  inspect SOURCE           print the training state and what a fine-tune (--init-from) would\n"
      "                           take: resolution, model, classes, G_ema, optimizer states; SOURCE is\n"
      "                           a checkpoint, a run folder or a BigGAN-PyTorch weights folder\n"
      "  import WEIGHTS_DIR       a BigGAN-PyTorch weights folder into a checkpoint of the run that\n"
      "                           --config/--set (or the folder's own state_dict.pth config) describe\n"
      "  export CHECKPOINT OUT    a checkpoint as a BigGAN-PyTorch weights folder\n"};
  po::options_description o = config_options();
  po::options_description own("Checkpoints");
  own.add_options()("action", po::value<std::string>(), "list | verify | inspect | import | export")
      ("paths", po::value<std::vector<std::string>>(), "run folders, checkpoints or weights folders");
  o.add(own);
  po::positional_options_description positional;
  positional.add("action", 1).add("paths", -1);
  const auto vm = parse_command(spec, o, args, &positional);
  if (!vm) return 0;
  if (!vm->count("action")) throw UsageError("ckpt: an action is required (list | verify | inspect | import | export)");
  const std::string action = (*vm)["action"].as<std::string>();
  const auto paths = vm->count("paths") ? (*vm)["paths"].as<std::vector<std::string>>() : std::vector<std::string>{};
  configure_logging();
  const auto need = [&](std::size_t n, const char* usage) {
    if (paths.size() != n) throw UsageError(std::string("ckpt ") + action + ": usage: biggan ckpt " + action + " " + usage);
  };

  if (action == "list" || action == "verify") {
    if (paths.empty()) throw UsageError("ckpt " + action + ": give at least one run folder or checkpoint");
    int damaged = 0, empty = 0;
    std::set<std::string> index_problems;
    for (const auto& path : paths) {
      const auto found = checkpoints_of(path);
      if (found.empty()) {
        // Nothing to vouch for is no success for verify: a script must not take it for one.
        (action == "verify" ? std::cerr : std::cout) << path << ": no checkpoints\n";
        ++empty;
      }
      for (const auto& c : found) {
        const auto problems = ckpt::verify(c);
        damaged += problems.empty() ? 0 : 1;
        if (action == "list") {
          std::cout << c << "  " << (problems.empty() ? "valid" : "DAMAGED") << "  " << folder_bytes(c) / 1024 << " KiB  "
                    << roles_of(c, index_problems) << "\n";
        } else {
          std::cout << c << ": " << (problems.empty() ? "ok" : "DAMAGED") << "\n";
          for (const auto& p : problems) std::cout << "  " << p << "\n";
        }
      }
    }
    // A damaged index is listed around, not fatal: `train` sets it aside at its next start.
    for (const auto& problem : index_problems) std::cerr << "biggan: " << problem << "\n";
    if (!index_problems.empty()) return 1;
    return action == "verify" && (damaged > 0 || empty > 0) ? 1 : 0;
  }
  if (action == "inspect") {
    need(1, "SOURCE");
    if (fs::exists(paths[0] + "/G.pth")) {
      std::cout << ckpt::describe(ckpt::read_pretrained(paths[0]));
      return 0;
    }
    const auto found = checkpoints_of(paths[0]);
    if (found.empty()) throw Error(paths[0] + ": no checkpoints (nor a BigGAN-PyTorch G.pth)");
    const std::string c = found.front();
    const auto problems = ckpt::verify(c);
    std::cout << read_file(c + "/state.json");
    std::cout << (problems.empty() ? "valid" : "DAMAGED") << "\n";
    for (const auto& p : problems) std::cout << "  " << p << "\n";
    if (!problems.empty()) return 1;
    std::cout << "as a fine-tuning source (--init-from):\n" << ckpt::describe(ckpt::read_pretrained(c));
    return 0;
  }
  if (action == "export") {
    need(2, "CHECKPOINT OUT_DIR");
    const auto found = checkpoints_of(paths[0]);
    if (found.empty()) throw Error(paths[0] + ": no checkpoints");
    const auto contents = ckpt::load(found.front());
    ckpt::export_biggan_pytorch(contents, config_of(contents, found.front()), paths[1]);
    std::cout << "exported " << found.front() << " to " << paths[1] << " (BigGAN-PyTorch layout)\n";
    return 0;
  }
  if (action == "import") {
    need(1, "WEIGHTS_DIR");
    const std::string dir = paths[0];
    std::vector<std::string> imported, base_files;
    std::string exported_yaml;  // our own export's config, kept as YAML text
    if (!vm->count("config") && fs::exists(dir + "/state_dict.pth")) {
      exported_yaml = io::read_exported_config_yaml(dir + "/state_dict.pth");
      if (exported_yaml.empty())
        imported = config::overrides_from_biggan_pytorch(io::read_biggan_pytorch_config(dir + "/state_dict.pth"));
    }
    if (!vm->count("config") && imported.empty() && exported_yaml.empty())
      throw UsageError("ckpt import: " + dir + " has no readable state_dict.pth config; give --config");
    if (!exported_yaml.empty()) {
      base_files.push_back((fs::temp_directory_path() / ("biggan-import-" + std::to_string(::getpid()) + ".yaml")).string());
      write_file_atomically(base_files.back(), exported_yaml);
    }
    config::Config config;
    try {
      config = load_config(*vm, 1, imported, base_files);
    } catch (...) {
      for (const auto& f : base_files) fs::remove(f);
      throw;
    }
    for (const auto& f : base_files) fs::remove(f);
    auto contents = ckpt::import_biggan_pytorch(dir, config);
    const run::RunLock lock(config.derived.run_dir, {});
    const auto existing = ckpt::list(run::RunFolder::at(config.derived.run_dir).checkpoints);
    if (!existing.empty())
      throw Error("ckpt import: run folder " + config.derived.run_dir + " already has checkpoints (newest " +
                  fs::path(existing.front()).filename().string() +
                  "); an import starts a run, so give it a new folder with --set paths.experiment_name=NAME");
    const auto prepared = run::prepare_run_folder(config, run::OtherRun::take_over_unused);
    const auto& folder = prepared.folder;
    if (!prepared.superseded_config.empty())
      std::cout << "run folder " << folder.root << " held nothing of the config it recorded (changed: "
                << prepared.changes << "); that config is kept as " << prepared.superseded_config << "\n";
    ckpt::Writer writer(folder.checkpoints, ckpt::Retention{config.ckpt.num_save_copies, config.ckpt.num_best_copies,
                                                           config.ckpt.keep_every},
                        /*async=*/false);
    const auto itr = contents.state.itr;
    // BigGAN-PyTorch's save_num is the copy slot its last save wrote; ours is the next one.
    ckpt::Slots slots;
    if (config.ckpt.num_save_copies > 0) {
      slots.copy = contents.state.save_num % config.ckpt.num_save_copies;
      contents.state.save_num = (slots.copy + 1) % config.ckpt.num_save_copies;
    }
    writer.save(std::move(contents), slots);
    std::cout << "imported " << dir << " as iteration " << itr << " of run " << folder.root
              << "; `biggan train` with the same config continues from it\n";
    return 0;
  }
  throw UsageError("ckpt: unknown action '" + action + "' (list | verify | inspect | import | export)");
}

}  // namespace biggan::cli
