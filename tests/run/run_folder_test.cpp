#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "run/run_folder.h"

namespace biggan::run {
namespace {

namespace fs = std::filesystem;

config::Config config_in(const std::string& root, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> sets = {"paths.runs_root=" + root, "data.dataset=C10"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return config::load({}, sets, 1);
}

TEST(RunFolder, CreatesLayoutAndResolvedConfig) {
  const std::string root = ::testing::TempDir() + "/biggan_runs_layout";
  fs::remove_all(root);
  const auto c = config_in(root);
  const RunFolder f = prepare_run_folder(c);
  EXPECT_EQ(f.root, root + "/" + c.derived.experiment_name);
  for (const auto& d : {f.logs, f.checkpoints, f.samples}) EXPECT_TRUE(fs::is_directory(d)) << d;
  // The stored config is the resolved one and loads back to the same run.
  config::Config stored;
  config::apply_yaml_file(stored, f.config_file);
  config::resolve(stored, 1);
  EXPECT_EQ(stored.derived.experiment_name, c.derived.experiment_name);
  // Same config again: accepted, nothing rewritten.
  const auto before = fs::last_write_time(f.config_file);
  prepare_run_folder(c);
  EXPECT_EQ(fs::last_write_time(f.config_file), before);
}

TEST(RunFolder, DifferentConfigInSameFolderIsRefusedAndKept) {
  const std::string root = ::testing::TempDir() + "/biggan_runs_conflict";
  fs::remove_all(root);
  const RunFolder f = prepare_run_folder(config_in(root, {"paths.experiment_name=x"}));
  const std::string original = read_file(f.config_file);
  try {
    prepare_run_folder(config_in(root, {"paths.experiment_name=x", "model.G_ch=32"}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("different config"), std::string::npos);
  }
  EXPECT_EQ(read_file(f.config_file), original);
  EXPECT_TRUE(fs::exists(f.root + "/config.new.yaml"));
}

// A run made with one activation layout resumes with another (`auto` on another CPU).
// A config.yaml that no longer reads (edited by hand, damaged) is named with what to do, and
// left as it is.
TEST(RunFolder, AnUnreadableStoredConfigIsNamedAndKept) {
  const std::string root = ::testing::TempDir() + "/biggan_runs_unreadable";
  fs::remove_all(root);
  const auto c = config_in(root, {"paths.experiment_name=x"});
  const RunFolder f = prepare_run_folder(c);
  const std::string good = read_file(f.config_file);
  const std::string damaged[] = {good.substr(0, good.size() / 3) + "\n  G_ch: [\n", good + "model:\n  G_ch: 8\n", ""};
  for (const auto& text : damaged) {
    write_file_atomically(f.config_file, text);
    try {
      prepare_run_folder(c);
      ADD_FAILURE() << "no error for:\n" << text.substr(0, 80);
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(f.config_file + " is this run folder's record of its config and cannot be read"),
                std::string::npos) << what;
      EXPECT_NE(what.find("state.json"), std::string::npos) << what;
    }
    EXPECT_EQ(read_file(f.config_file), text);
    EXPECT_FALSE(fs::exists(f.root + "/config.new.yaml"));
  }
  fs::remove_all(root);
}

TEST(RunFolder, TheActivationLayoutIsNotPartOfTheRun) {
  const std::string root = ::testing::TempDir() + "/biggan_runs_layout_choice";
  fs::remove_all(root);
  const RunFolder f = prepare_run_folder(config_in(root, {"paths.experiment_name=x", "model.channels_last=true"}));
  for (const std::string layout : {"auto", "false", "true"})
    EXPECT_NO_THROW(prepare_run_folder(config_in(root, {"paths.experiment_name=x", "model.channels_last=" + layout})))
        << layout;
  EXPECT_FALSE(fs::exists(f.root + "/config.new.yaml"));
}

}  // namespace
}  // namespace biggan::run
