#include "cli/cli.h"

#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/suggest.h"
#include "cli/version.h"

namespace biggan::cli {

const std::vector<CommandEntry>& command_table() {
  static const std::vector<CommandEntry> table = {
      {"train", "train G and D (single process, mpirun -np N, or srun)", train_command},
      {"sample", "sample sheets, interpolations, npz export and truncation curves from a run", sample_command},
      {"generate", "run G on z and y read from HDF5 and write the images to HDF5 (parity checks)", generate_command},
      {"prepare-data", "convert Fashion-MNIST, CIFAR or an image folder to our HDF5 format", prepare_data_command},
      {"inception-moments", "compute a dataset's Inception mean and covariance for FID", inception_moments_command},
      {"ckpt", "list, verify, inspect, import and export checkpoints", ckpt_command},
      {"logs", "summarise, compare, export and plot the logs of runs", logs_command},
      {"classifier", "train the small classifier behind the demo metric", classifier_command},
      {"eval", "evaluate a generator: classifier accuracy and Frechet distance, or IS/FID", eval_command},
  };
  return table;
}

std::string top_level_help() {
  std::string s =
      "Usage: biggan <command> [options]\n"
      "       biggan --help | --version\n\n"
      "BigGAN training as a distributed MPI job (C++17, LibTorch).\n\n"
      "Commands:\n";
  for (const auto& c : command_table()) {
    std::string name = c.name;
    name.resize(20, ' ');
    s += "  " + name + c.summary + "\n";
  }
  s += "\nRun 'biggan <command> --help' for the options of one command.\n"
       "Multi-rank: mpirun -np 2 biggan train --config configs/fmnist_demo.yaml\n";
  return s;
}

int dispatch(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << top_level_help();
    return 2;
  }
  const std::string& first = args.front();
  if (first == "--help" || first == "-h" || first == "help") {
    std::cout << top_level_help();
    return 0;
  }
  if (first == "--version" || first == "-V" || first == "version") {
    std::cout << version_text();
    return 0;
  }
  std::vector<std::string> names;
  for (const auto& c : command_table()) {
    names.push_back(c.name);
    if (c.name == first) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (!first.empty() && first[0] == '-')
    throw UsageError("unknown option '" + first + "'" + did_you_mean(first, {"--help", "--version"}) +
                     "; options go after the command, e.g. 'biggan train --help'");
  throw UsageError("unknown command '" + first + "'" + did_you_mean(first, names) + "; see 'biggan --help'");
}

}  // namespace biggan::cli
