// Shared command-line plumbing for the subcommands (Boost.Program_options).
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "logging/log.h"

namespace biggan::cli {

namespace po = boost::program_options;

struct CommandSpec {
  std::string name;      // "train"
  std::string usage;     // "[options]" or "<action> [options]"
  std::string summary;   // one line
  std::string details;   // paragraphs printed after the options in --help
};

// Parses `args` (everything after the subcommand). Prints help to stdout and returns nullopt on
// --help. Unknown options and bad values throw UsageError with a suggestion.
std::optional<po::variables_map> parse_command(const CommandSpec& spec, po::options_description& options,
                                               const std::vector<std::string>& args,
                                               const po::positional_options_description* positional = nullptr);

// --config (repeatable), --set (repeatable), --base-root: every command that reads a config.
po::options_description config_options();
// Loads the config named by config_options() for `world_size` ranks. `imported` overrides (from
// a BigGAN-PyTorch state_dict.pth, say) apply after the files and before --set.
// `base_files` load before --config (a run's own config.yaml); `imported` are --set overrides
// that apply before the user's.
config::Config load_config(const po::variables_map& vm, int world_size, const std::vector<std::string>& imported = {},
                           const std::vector<std::string>& base_files = {});

// An input of the command, named as a message should name it ("--input", "the dataset").
struct NamedPath {
  std::string name;
  std::string path;
};
// Refuses (UsageError) an output that is one of the command's inputs, through any spelling of
// its path or a link: writing the output would replace that input (a dataset that took hours
// to prepare, the latents, the weights) once the command has finished.
void refuse_output_over_inputs(const std::string& output_name, const std::string& output,
                               const std::vector<NamedPath>& inputs);

// The regular files directly inside `folder` (none where it is no folder), each called `name`.
std::vector<NamedPath> files_in(const std::string& folder, const std::string& name);

// Rank-aware logging for a command, at `level` (info until a config says otherwise, then its
// log.level). `rank_file`: every rank's own log file ("" for none; log.rank_files).
void configure_logging(logging::Level level = logging::Level::info, const std::string& rank_file = "");

}  // namespace biggan::cli
