// `biggan <command> [options]`, git style.
#pragma once

#include <string>
#include <vector>

namespace biggan::cli {

struct CommandEntry {
  std::string name;
  std::string summary;
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<CommandEntry>& command_table();
std::string top_level_help();

// Runs the command line and returns the exit status. UsageError and Error propagate to main().
int dispatch(int argc, char** argv);

}  // namespace biggan::cli
