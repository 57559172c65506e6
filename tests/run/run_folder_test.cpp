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
  const RunFolder f = prepare_run_folder(c).folder;
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
  const RunFolder f = prepare_run_folder(config_in(root, {"paths.experiment_name=x"})).folder;
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

// A start that failed before its first iteration (out of memory in its first step, a signal)
// leaves config.yaml and at most its start-up logs. Under the lock the corrected config takes the
// folder over; the old config and those logs are kept, and each later takeover keeps its own copy.
TEST(RunFolder, AFolderWithoutResultsIsTakenOverWithItsConfigKept) {
  const std::string root = ::testing::TempDir() + "/biggan_runs_takeover";
  fs::remove_all(root);
  const RunFolder f = prepare_run_folder(config_in(root, {"paths.experiment_name=x"})).folder;
  const std::string first = read_file(f.config_file);
  write_file_atomically(f.logs + "/events.jsonl", "{\"event\":\"start\"}\n");
  write_file_atomically(f.logs + "/rank0.log", "error: data/x.hdf5: images are 32 px\n");
  write_file_atomically(f.logs + "/metrics.jsonl", "");  // opened, no iteration logged
  const auto wider = config_in(root, {"paths.experiment_name=x", "model.G_ch=32"});
  EXPECT_THROW(prepare_run_folder(wider), Error);  // without the lock's promise: refused as before
  const auto prepared = prepare_run_folder(wider, OtherRun::take_over_unused);
  EXPECT_EQ(prepared.superseded_config, f.root + "/config.superseded.yaml");
  EXPECT_NE(prepared.changes.find("model.G_ch"), std::string::npos) << prepared.changes;
  EXPECT_EQ(read_file(prepared.superseded_config), first);
  config::Config stored;
  config::apply_yaml_file(stored, f.config_file);
  EXPECT_EQ(stored.model.G_ch, 32);
  EXPECT_EQ(read_file(f.logs + "/events.jsonl"), "{\"event\":\"start\"}\n");
  EXPECT_EQ(read_file(f.logs + "/rank0.log"), "error: data/x.hdf5: images are 32 px\n");
  // A second takeover keeps the second config beside the first, which stays as it was.
  const std::string second = read_file(f.config_file);
  const auto third = prepare_run_folder(config_in(root, {"paths.experiment_name=x", "model.G_ch=48"}),
                                        OtherRun::take_over_unused);
  EXPECT_EQ(third.superseded_config, f.root + "/config.superseded.2.yaml");
  EXPECT_EQ(read_file(third.superseded_config), second);
  EXPECT_EQ(read_file(f.root + "/config.superseded.yaml"), first);
  // The same config again replaces nothing.
  EXPECT_TRUE(prepare_run_folder(config_in(root, {"paths.experiment_name=x", "model.G_ch=48"}),
                                 OtherRun::take_over_unused).superseded_config.empty());
  fs::remove_all(root);
}

// Anything the recorded run produced keeps its config: a checkpoint (partial or damaged ones
// too), a sample, a logged iteration or evaluation, an archive of superseded log lines, or a
// file of unknown kind in logs/.
TEST(RunFolder, AFolderWithResultsIsNeverTakenOver) {
  const std::string root = ::testing::TempDir() + "/biggan_runs_no_takeover";
  const std::vector<std::pair<std::string, std::string>> results = {
      {"checkpoints/itr00000007.partial/state.json", ""},
      {"checkpoints/itr00000007/G.h5", "x"},
      {"samples/fixed_itr00000007.png", "x"},
      {"logs/metrics.jsonl", "{\"itr\":1}\n"},
      {"logs/eval.jsonl", "{\"itr\":7}\n"},
      {"logs/archive/metrics.jsonl", ""},
      {"logs/notes.txt", "x"},
      {"logs/rank0.log/inner", ""},  // a folder where a rank log would be
  };
  for (const auto& [path, text] : results) {
    fs::remove_all(root);
    const RunFolder f = prepare_run_folder(config_in(root, {"paths.experiment_name=x"})).folder;
    const std::string first = read_file(f.config_file);
    fs::create_directories(fs::path(f.root + "/" + path).parent_path());
    write_file_atomically(f.root + "/" + path, text);
    try {
      prepare_run_folder(config_in(root, {"paths.experiment_name=x", "model.G_ch=32"}), OtherRun::take_over_unused);
      ADD_FAILURE() << "taken over with " << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("already holds a run with a different config"), std::string::npos)
          << path << ": " << e.what();
    }
    EXPECT_EQ(read_file(f.config_file), first) << path;
    EXPECT_FALSE(fs::exists(f.root + "/config.superseded.yaml")) << path;
  }
  fs::remove_all(root);
}

// A run made with one activation layout resumes with another (`auto` on another CPU).
// A config.yaml that no longer reads (edited by hand, damaged) is named with what to do, and
// left as it is.
TEST(RunFolder, AnUnreadableStoredConfigIsNamedAndKept) {
  const std::string root = ::testing::TempDir() + "/biggan_runs_unreadable";
  fs::remove_all(root);
  const auto c = config_in(root, {"paths.experiment_name=x"});
  const RunFolder f = prepare_run_folder(c).folder;
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
  const RunFolder f = prepare_run_folder(config_in(root, {"paths.experiment_name=x", "model.channels_last=true"})).folder;
  for (const std::string layout : {"auto", "false", "true"})
    EXPECT_NO_THROW(prepare_run_folder(config_in(root, {"paths.experiment_name=x", "model.channels_last=" + layout})))
        << layout;
  EXPECT_FALSE(fs::exists(f.root + "/config.new.yaml"));
}

}  // namespace
}  // namespace biggan::run
