// The command line in-process: dispatch, help, version and errors with suggestions.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "cli/cli.h"
#include "core/error.h"
#include "core/suggest.h"
#include "cli/version.h"

namespace biggan::cli {
namespace {

int run_args(std::vector<std::string> args) {
  args.insert(args.begin(), "biggan");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return dispatch(static_cast<int>(argv.size()), argv.data());
}

std::string usage_error_of(const std::vector<std::string>& args) {
  try {
    run_args(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no UsageError)";
}

TEST(Cli, HelpListsEveryCommand) {
  const std::string help = top_level_help();
  for (const char* c : {"train", "sample", "prepare-data", "inception-moments", "ckpt", "logs", "generate"})
    EXPECT_NE(help.find(std::string("  ") + c + " "), std::string::npos) << c;
  testing::internal::CaptureStdout();
  EXPECT_EQ(run_args({"--help"}), 0);
  EXPECT_NE(testing::internal::GetCapturedStdout().find("Commands:"), std::string::npos);
}

TEST(Cli, EveryCommandHasHelp) {
  for (const auto& c : command_table()) {
    testing::internal::CaptureStdout();
    EXPECT_EQ(run_args({c.name, "--help"}), 0) << c.name;
    const std::string out = testing::internal::GetCapturedStdout();
    EXPECT_NE(out.find("Usage: biggan " + c.name), std::string::npos) << out;
  }
}

TEST(Cli, VersionNamesLibraries) {
  const std::string v = version_text();
  EXPECT_NE(v.find("LibTorch"), std::string::npos);
  EXPECT_NE(v.find("MPI"), std::string::npos);
  EXPECT_NE(v.find("HDF5"), std::string::npos);
  EXPECT_NE(v.find("git "), std::string::npos);
#ifdef BIGGAN_WITH_JEMALLOC
  EXPECT_NE(v.find("malloc   jemalloc 5"), std::string::npos) << v;
  EXPECT_NE(v.find("dirty_decay_ms -1"), std::string::npos) << v;
#endif
}

TEST(Cli, NoArgumentsIsUsageError) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(run_args({}), 2);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("Usage"), std::string::npos);
}

TEST(Cli, UnknownCommandSuggests) {
  EXPECT_NE(usage_error_of({"trian"}).find("did you mean 'train'"), std::string::npos);
  EXPECT_NE(usage_error_of({"prepare_data"}).find("did you mean 'prepare-data'"), std::string::npos);
  EXPECT_NE(usage_error_of({"--verison"}).find("did you mean '--version'"), std::string::npos);
}

TEST(Cli, UnknownOptionSuggests) {
  const std::string e = usage_error_of({"train", "--print-confg"});
  EXPECT_NE(e.find("'--print-confg'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean '--print-config'"), std::string::npos) << e;
  // No prefix guessing: an abbreviation is an error, not a silent match.
  EXPECT_NE(usage_error_of({"train", "--conf", "x"}).find("unknown option"), std::string::npos);
}

TEST(Cli, MissingOptionValue) {
  EXPECT_NE(usage_error_of({"train", "--config"}).find("biggan train"), std::string::npos);
}

TEST(Cli, SampleNeedsARunFolder) {
  EXPECT_NE(usage_error_of({"sample"}).find("--run is required"), std::string::npos);
  try {
    run_args({"sample", "--run", "runs/no_such_run"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("runs/no_such_run: not a run folder"), std::string::npos) << e.what();
  }
}

TEST(Cli, LogsOfAMissingRunNameIt) {
  try {
    run_args({"logs", "summary", "runs/no_such_run"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("runs/no_such_run: no such run folder"), std::string::npos) << e.what();
  }
}

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("ABC", "abc"), 0u);
  EXPECT_EQ(closest_match("G_chh", {"G_ch", "D_ch", "dim_z"}), "G_ch");
  EXPECT_EQ(closest_match("zzzzzzzz", {"G_ch", "D_ch"}), "");
}

}  // namespace
}  // namespace biggan::cli
