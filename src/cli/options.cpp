#include "cli/options.h"

#include "distributed/context.h"
#include "logging/log.h"

#include <filesystem>
#include <iostream>

#include "config/datasets.h"
#include "core/error.h"
#include "core/suggest.h"
#include "data/dataset_file.h"

namespace biggan::cli {

std::optional<po::variables_map> parse_command(const CommandSpec& spec, po::options_description& options,
                                               const std::vector<std::string>& args,
                                               const po::positional_options_description* positional) {
  po::options_description all("Options");
  all.add_options()("help,h", "show this help");
  all.add(options);
  po::variables_map vm;
  // Prefix guessing off: `--conf` must not silently mean `--config` in a batch script.
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  try {
    po::command_line_parser parser(args);
    parser.options(all).style(style);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: biggan " << spec.name << " " << spec.usage << "\n\n" << spec.summary << "\n\n" << all;
      if (!spec.details.empty()) std::cout << "\n" << spec.details << "\n";
      return std::nullopt;
    }
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    std::vector<std::string> names;
    for (const auto& o : all.options()) names.push_back("--" + o->long_name());
    throw UsageError("unknown option '" + e.get_option_name() + "' for 'biggan " + spec.name + "'" +
                     did_you_mean(e.get_option_name(), names) + "; see 'biggan " + spec.name + " --help'");
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (biggan " + spec.name + "; see 'biggan " + spec.name + " --help')");
  }
  return vm;
}

po::options_description config_options() {
  po::options_description d("Configuration");
  d.add_options()
      ("config,c", po::value<std::vector<std::string>>()->composing(),
       "YAML config file; repeatable, later files override earlier ones")
      ("set,s", po::value<std::vector<std::string>>()->composing(),
       "override one key, e.g. --set train.batch_size=32; repeatable, applied after all files")
      ("base-root", po::value<std::string>(),
       "like BigGAN-PyTorch's --base_root: data in DIR/data, runs in DIR/runs (same as --set paths.base_root=DIR)");
  return d;
}

void refuse_output_over_inputs(const std::string& output_name, const std::string& output,
                               const std::vector<NamedPath>& inputs) {
  for (const auto& input : inputs) {
    std::error_code error;  // a path that is not there is no input to lose
    if (!input.path.empty() && std::filesystem::equivalent(output, input.path, error))
      throw UsageError(output_name + " " + output + " is the same file as " + input.name + " " + input.path +
                       ": writing there would replace it; choose another path");
  }
}

std::vector<NamedPath> files_in(const std::string& folder, const std::string& name) {
  std::vector<NamedPath> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error))
    if (entry.is_regular_file(error)) files.push_back({name, entry.path().string()});
  return files;
}

namespace {

// A custom dataset's resolution and class count are the file's, where the config leaves them
// unset: `--set data.dataset=custom --set data.path=mine.hdf5` is enough to train on it. A file
// that is not there yet (prepare-data's own output) leaves them unset for resolve() to name.
void read_unset_shape_from_dataset(config::Config& c) {
  const auto info = config::find_dataset(c.data.dataset);
  if (!info || info->name != "custom" || c.data.path.empty() || (c.data.resolution > 0 && c.data.n_classes > 0)) return;
  std::error_code error;
  if (!std::filesystem::is_regular_file(c.data.path, error)) return;
  const data::DatasetHeader header = data::inspect_dataset(c.data.path);
  const std::string source = c.data.path + " (read from the dataset)";
  if (c.data.resolution <= 0) config::apply_override(c, "data.resolution=" + std::to_string(header.resolution), source);
  if (c.data.n_classes <= 0)
    config::apply_override(c, "data.n_classes=" + std::to_string(data::class_count(header)), source);
}

}  // namespace

config::Config load_config(const po::variables_map& vm, int world_size, const std::vector<std::string>& imported,
                           const std::vector<std::string>& base_files) {
  std::vector<std::string> files = base_files, sets = imported;
  if (vm.count("config")) {
    const auto& user = vm["config"].as<std::vector<std::string>>();
    files.insert(files.end(), user.begin(), user.end());
  }
  if (vm.count("set")) {
    const auto& user = vm["set"].as<std::vector<std::string>>();
    sets.insert(sets.end(), user.begin(), user.end());
  }
  if (vm.count("base-root")) sets.insert(sets.begin(), "paths.base_root=" + vm["base-root"].as<std::string>());
  config::Config c = config::apply_all(files, sets);
  read_unset_shape_from_dataset(c);
  config::resolve(c, world_size);
  return c;
}

void configure_logging(logging::Level level, const std::string& rank_file) {
  // The process context only where a command started MPI: ckpt and generate never do.
  const auto* ctx = distributed::Context::current();
  logging::configure({ctx ? ctx->rank() : 0, ctx ? ctx->world_size() : 1, ctx ? ctx->host() : std::string(),
                      level, rank_file});
}

}  // namespace biggan::cli
