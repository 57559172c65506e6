// Subcommands whose work lands with later issues. Their options are defined now, so --help,
// option checking and scripts written against them are stable; running one ends with a clear
// error and a non-zero status instead of pretending.
#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"

namespace biggan::cli {

namespace {

int not_yet(const CommandSpec& spec, po::options_description& options, const Args& args,
            const po::positional_options_description* positional, const std::string& issue) {
  if (!parse_command(spec, options, args, positional)) return 0;  // --help
  throw Error("'biggan " + spec.name + "' is not part of this build yet (" + issue + ")");
}

}  // namespace

int sample_command(const Args& args) {
  CommandSpec spec{"sample", "--run DIR [options]",
                   "Sample from a trained generator: class sheets, interpolations, a random sheet, npz/HDF5 export, "
                   "IS/FID and truncation curves (BigGAN-PyTorch's sample.py).",
                   "What to produce is chosen by the sample.* config keys, e.g. --set sample.sample_sheets=true."};
  po::options_description o = config_options();
  o.add_options()("run", po::value<std::string>(), "run folder to sample from (its config.yaml is loaded first)")
      ("checkpoint", po::value<std::string>(), "checkpoint folder (default: the newest valid one)");
  return not_yet(spec, o, args, nullptr, "issue 9, sampling and Inception metrics");
}



}  // namespace biggan::cli
