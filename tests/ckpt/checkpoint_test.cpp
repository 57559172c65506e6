// Checkpoint folders: written atomically with a manifest, damaged ones detected and skipped,
// BigGAN-PyTorch's retention rings, Adam state round trips.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <zlib.h>

#include "ckpt/checkpoint.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "io/h5_tensors.h"

namespace biggan::ckpt {
namespace {

namespace fs = std::filesystem;

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("biggan_ckpt_" + std::to_string(::getpid()));
    fs::remove_all(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  Contents contents(std::int64_t itr) {
    Contents c;
    c.state.itr = itr;
    c.state.world_size = 2;
    c.state.global_batch_size = 64;
    c.state.config_yaml = "train:\n  seed: 0\n";
    c.state.sampler.position = 128;
    c.G = {{"linear.weight", torch::randn({4, 3})}, {"linear.u0", torch::randn({1, 4})}};
    c.D = {{"embed.weight", torch::randn({10, 4})}};
    c.G_optim = {{"0.step", torch::tensor(3, torch::kInt64)}, {"0.exp_avg", torch::randn({4, 3})},
                 {"0.exp_avg_sq", torch::rand({4, 3})}};
    c.D_optim = {};
    c.rng = torch::randint(0, 255, {2, 16}, torch::kUInt8);
    return c;
  }
  std::string ckpt(std::int64_t itr) {
    char name[32];
    std::snprintf(name, sizeof name, "itr%08lld", static_cast<long long>(itr));
    return (dir / name).string();
  }
  fs::path dir;
};

TEST_F(Checkpoints, RoundTripAndRetentionRings) {
  Writer writer(dir.string(), Retention{2, 1, 4}, /*async=*/true);
  const auto first = contents(2);
  writer.save(first, Slots{0, -1});
  writer.wait();
  EXPECT_TRUE(verify(ckpt(2)).empty());
  const auto loaded = load(ckpt(2));
  EXPECT_TRUE(torch::equal(loaded.G.at("linear.weight"), first.G.at("linear.weight")));
  EXPECT_TRUE(torch::equal(loaded.rng, first.rng));
  EXPECT_EQ(loaded.state.sampler.position, 128);
  EXPECT_EQ(loaded.state.world_size, 2);
  EXPECT_FALSE(loaded.state.created.empty());
  // Ring of 2 copies and 1 best: 2 (copy0), 4 (copy1, keep), 6 (best0), 8 (copy0, keep):
  // 2 lost its only role.
  writer.save(contents(4), Slots{1, -1});
  writer.save(contents(6), Slots{-1, 0});
  writer.save(contents(8), Slots{0, -1});
  writer.wait();
  EXPECT_FALSE(fs::exists(ckpt(2)));
  EXPECT_TRUE(fs::exists(ckpt(4)));  // copy1, keep_every 4
  EXPECT_TRUE(fs::exists(ckpt(6)));  // best0
  EXPECT_TRUE(fs::exists(ckpt(8)));  // latest, copy0, keep
  EXPECT_EQ(read_file((dir / "latest").string()), "itr00000008\n");
  writer.save(contents(10), Slots{1, -1});  // copy1 moves on; 4 stays for keep, 6 as best0
  writer.wait();
  EXPECT_TRUE(fs::exists(ckpt(4)));
  EXPECT_TRUE(fs::exists(ckpt(6)));
  EXPECT_EQ(list(dir.string()).front(), ckpt(10));
  // A best checkpoint saved again at the same iteration by the periodic save keeps both roles.
  writer.save(contents(12), Slots{-1, 0});
  writer.save(contents(12), Slots{0, -1});
  writer.wait();
  const auto index = nlohmann::json::parse(read_file((dir / "index.json").string()));
  const auto& newest = index.at("checkpoints").back();
  EXPECT_EQ(newest.at("name"), "itr00000012");
  EXPECT_EQ(newest.at("roles"), nlohmann::json({"latest", "copy0", "keep", "best0"})) << index.dump();
  EXPECT_FALSE(fs::exists(ckpt(6)));  // its best0 slot moved to 12
  EXPECT_TRUE(fs::exists(ckpt(8)));   // copy0 moved on, keep stays
}

TEST_F(Checkpoints, DamagedCheckpointsAreDetectedAndSkipped) {
  {
    Writer writer(dir.string(), Retention{5, 0, 0}, /*async=*/false);
    for (int itr : {1, 2, 3, 4}) writer.save(contents(itr), Slots{itr, -1});
  }
  // 4: a flipped bit; 3: truncated; 2: a missing file; 1 stays good. The bit is flipped, not the
  // byte set: a byte that already held the value written left the file as it was (a test run).
  {
    std::fstream f(ckpt(4) + "/G.h5", std::ios::in | std::ios::out | std::ios::binary);
    const auto at = static_cast<std::streamoff>(fs::file_size(ckpt(4) + "/G.h5") - 20);
    f.seekg(at);
    const int byte = f.get();
    ASSERT_NE(byte, std::char_traits<char>::eof());
    f.seekp(at);
    f.put(static_cast<char>(byte ^ 0x10));
  }
  fs::resize_file(ckpt(3) + "/D.h5", fs::file_size(ckpt(3) + "/D.h5") / 2);
  fs::remove(ckpt(2) + "/G_optim.h5");
  EXPECT_NE(verify(ckpt(4)).at(0).find("CRC-32"), std::string::npos);
  EXPECT_NE(verify(ckpt(3)).at(0).find("bytes"), std::string::npos);
  EXPECT_NE(verify(ckpt(2)).at(0).find("missing"), std::string::npos);
  std::vector<std::string> warnings;
  const auto loaded = load_newest_valid(dir.string(), [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->path, ckpt(1));
  EXPECT_EQ(warnings.size(), 3u);
  EXPECT_THROW(load(ckpt(4)), Error);
  // An interrupted save (no manifest) is invalid too, and a new writer removes stale temporaries.
  fs::create_directories(dir / ".tmp-itr00000009-123");
  fs::remove(ckpt(1) + "/manifest.json");
  EXPECT_NE(verify(ckpt(1)).at(0).find("incomplete"), std::string::npos);
  Writer cleanup(dir.string(), Retention{}, false);
  EXPECT_FALSE(fs::exists(dir / ".tmp-itr00000009-123"));
}

// `eval --best` / `sample --best`: the newest valid checkpoint of the best ring, never a newer
// periodic one; a damaged best falls back to the older best; none without an index or a best.
TEST_F(Checkpoints, TheBestCheckpointIsTheNewestValidOneOfTheBestRing) {
  const auto no_warning = [](const std::string& w) { ADD_FAILURE() << w; };
  fs::create_directories(dir);
  EXPECT_FALSE(load_best_valid(dir.string(), no_warning).has_value());  // no index
  {
    Writer writer(dir.string(), Retention{2, 2, 0}, /*async=*/false);
    writer.save(contents(2), Slots{0, -1});
    EXPECT_FALSE(load_best_valid(dir.string(), no_warning).has_value());  // no best yet
    writer.save(contents(3), Slots{-1, 0});
    writer.save(contents(4), Slots{-1, 1});
    writer.save(contents(6), Slots{1, -1});  // newer, periodic
  }
  auto best = load_best_valid(dir.string(), no_warning);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->path, ckpt(4));
  EXPECT_EQ(best->contents.state.itr, 4);
  EXPECT_EQ(load_newest_valid(dir.string(), no_warning)->path, ckpt(6));
  fs::resize_file(ckpt(4) + "/G.h5", fs::file_size(ckpt(4) + "/G.h5") / 2);
  std::vector<std::string> warnings;
  best = load_best_valid(dir.string(), [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->path, ckpt(3));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("itr00000004"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("next older best checkpoint"), std::string::npos) << warnings[0];
  fs::remove(ckpt(3) + "/manifest.json");
  warnings.clear();
  EXPECT_FALSE(load_best_valid(dir.string(), [&](const std::string& w) { warnings.push_back(w); }).has_value());
  EXPECT_EQ(warnings.size(), 2u);
}

// A path that is no checkpoint (as typed to `eval --checkpoint` or `ckpt verify`) is named as
// what it is, not as a damaged save.
TEST_F(Checkpoints, APathThatIsNoCheckpointSaysWhatItIs) {
  {
    Writer writer(dir.string(), Retention{5, 0, 0}, /*async=*/false);
    for (int itr : {3, 7}) writer.save(contents(itr), Slots{itr, -1});
  }
  EXPECT_EQ(verify((dir / "absent").string()), std::vector<std::string>{"no such folder"});
  EXPECT_EQ(verify((dir / "index.json").string()), std::vector<std::string>{"a file, not a checkpoint folder"});
  const auto folder = verify(dir.string());
  ASSERT_EQ(folder.size(), 1u);
  EXPECT_NE(folder[0].find("a folder of checkpoints, not one"), std::string::npos) << folder[0];
  EXPECT_NE(folder[0].find("the newest is itr00000007"), std::string::npos) << folder[0];
  try {
    load((dir / "absent").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent: not a valid checkpoint:\n  no such folder"), std::string::npos) << e.what();
  }
  fs::create_directories(dir / "empty");
  EXPECT_NE(verify((dir / "empty").string()).at(0).find("incomplete"), std::string::npos);
}

// Schema 1 (before latents became a function of the counters) stored each rank's latent
// generator as rng.h5 "noise": such checkpoints still load, without a generator state.
TEST_F(Checkpoints, SchemaOneCheckpointsStillLoad) {
  Writer(dir.string(), Retention{1, 0, 0}, /*async=*/false).save(contents(5), Slots{0, -1});
  const std::string c = ckpt(5);
  fs::remove(c + "/rng.h5");
  io::H5File(c + "/rng.h5", io::H5File::Mode::create).write("noise", torch::randint(0, 255, {2, 16}, torch::kUInt8));
  auto state = nlohmann::json::parse(read_file(c + "/state.json"));
  state["schema_version"] = 1;
  write_file_atomically(c + "/state.json", state.dump(2));
  auto manifest = nlohmann::json::parse(read_file(c + "/manifest.json"));
  manifest["schema_version"] = 1;
  for (const char* f : {"rng.h5", "state.json"}) {
    const std::string bytes = read_file(c + "/" + f);
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08lx",
                  crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
    manifest["files"][f] = {{"bytes", bytes.size()}, {"crc32", hex}};
  }
  write_file_atomically(c + "/manifest.json", manifest.dump(2));
  ASSERT_TRUE(verify(c).empty()) << verify(c).at(0);
  const auto loaded = load(c);
  EXPECT_EQ(loaded.state.itr, 5);
  EXPECT_FALSE(loaded.rng.defined());
  EXPECT_EQ(loaded.G.size(), 2u);
}

TEST_F(Checkpoints, AdamStateRoundTrip) {
  auto w = torch::randn({3, 2}, torch::requires_grad());
  torch::optim::Adam adam({w}, torch::optim::AdamOptions(1e-3).betas({0.0, 0.999}));
  (w * w).sum().backward();
  adam.step();
  const auto saved = adam_state(adam);
  auto w2 = w.detach().clone().requires_grad_();
  torch::optim::Adam other({w2}, torch::optim::AdamOptions(1e-3).betas({0.0, 0.999}));
  restore_adam_state(other, saved, "test");
  // The same next step from the same state.
  for (auto* pair : {&adam, &other}) {
    pair->zero_grad();
    auto& p = pair->param_groups()[0].params()[0];
    (p * p * p).sum().backward();
    pair->step();
  }
  EXPECT_TRUE(torch::equal(w, w2));
  EXPECT_THROW(restore_adam_state(other, {{"0.step", torch::tensor(1)}, {"0.exp_avg", torch::zeros({5})},
                                          {"0.exp_avg_sq", torch::zeros({5})}}, "bad"),
               Error);
  // A step without its moments (another optimizer's state): an Error naming the file, not map::at.
  try {
    restore_adam_state(other, {{"0.step", torch::tensor(1)}, {"0.exp_avg", torch::zeros({3, 2})}}, "G_optim.pth");
    ADD_FAILURE() << "a state without exp_avg_sq was restored";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("G_optim.pth: optimizer state of parameter 0 has a step but no exp_avg_sq"),
              std::string::npos)
        << e.what();
  }
}

void flip_byte_in_the_middle(const std::string& file) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  const auto middle = static_cast<std::streamoff>(fs::file_size(file) / 2);
  f.seekg(middle);
  const char c = static_cast<char>(f.get());
  f.seekp(middle);
  f.put(static_cast<char>(c ^ 0x10));
}

std::vector<std::string> entries_named(const fs::path& dir, const std::string& part) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(part) != std::string::npos) out.push_back(e.path().filename().string());
  return out;
}

nlohmann::json index_of(const fs::path& dir) { return nlohmann::json::parse(read_file((dir / "index.json").string())); }

// A damaged folder of the name a save is about to take (a run resumed from an older checkpoint
// reaches an iteration whose folder was damaged) is kept aside as damaged, never skipped: the
// new save is written, and `latest` and the rings point at a valid checkpoint.
TEST_F(Checkpoints, ADamagedFolderOfTheSameNameIsSetAsideAndTheSaveWritten) {
  for (const std::string damage : {"flipped byte", "no manifest", "truncated", "garbage state"}) {
    fs::remove_all(dir);
    {
      Writer writer(dir.string(), Retention{2, 0, 0}, false);
      writer.save(contents(5), Slots{0, -1});
      writer.save(contents(10), Slots{1, -1});
    }
    if (damage == "flipped byte") flip_byte_in_the_middle(ckpt(10) + "/G.h5");
    if (damage == "no manifest") fs::remove(ckpt(10) + "/manifest.json");
    if (damage == "truncated") fs::resize_file(ckpt(10) + "/D.h5", 100);
    if (damage == "garbage state") write_file_atomically(ckpt(10) + "/state.json", "{garbage");
    ASSERT_FALSE(verify(ckpt(10)).empty()) << damage;
    Writer writer(dir.string(), Retention{2, 0, 0}, false);
    writer.save(contents(10), Slots{1, -1});
    EXPECT_TRUE(verify(ckpt(10)).empty()) << damage;
    EXPECT_TRUE(verify(ckpt(5)).empty()) << damage;
    const auto aside = entries_named(dir, "itr00000010.damaged-");
    ASSERT_EQ(aside.size(), 1u) << damage;
    EXPECT_EQ(read_file((dir / "latest").string()), "itr00000010\n");
    // The set-aside folder is not a checkpoint any more: never listed, never chosen.
    EXPECT_EQ(list(dir.string()), (std::vector<std::string>{ckpt(10), ckpt(5)})) << damage;
  }
}

// At the start of a run, rank 0's choice sets damaged newer checkpoints aside (they keep no
// role) and chooses the newest valid one; the valid older ones keep theirs.
TEST_F(Checkpoints, ChoosingTheResumeCheckpointSetsDamagedOnesAside) {
  {
    Writer writer(dir.string(), Retention{3, 0, 0}, false);
    for (int itr : {5, 10, 15}) writer.save(contents(itr), Slots{itr / 5 - 1, -1});
  }
  flip_byte_in_the_middle(ckpt(15) + "/D_optim.h5");
  std::vector<std::string> warnings;
  const std::string chosen = choose_resume_checkpoint(dir.string(), [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(chosen, ckpt(10));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("itr00000015"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("CRC-32"), std::string::npos) << warnings[0];
  EXPECT_EQ(entries_named(dir, "itr00000015.damaged-").size(), 1u);
  const auto index = index_of(dir);
  ASSERT_EQ(index.at("checkpoints").size(), 2u) << index.dump();
  EXPECT_EQ(index.at("checkpoints")[1].at("name"), "itr00000010");
  EXPECT_EQ(index.at("checkpoints")[1].at("roles"), nlohmann::json({"latest", "copy1"})) << index.dump();
  EXPECT_EQ(read_file((dir / "latest").string()), "itr00000010\n");
}

// A damaged index.json would stop every start of a requeueing job: it is set aside with a warning,
// the run resumes from the newest valid checkpoint, and no checkpoint is deleted, neither then
// nor by the saves that follow (the rings forget the ones the old index listed).
TEST_F(Checkpoints, ADamagedIndexIsSetAsideAndNoCheckpointIsLost) {
  {
    Writer writer(dir.string(), Retention{2, 0, 0}, false);
    for (int itr : {5, 10}) writer.save(contents(itr), Slots{itr / 5 - 1, -1});
  }
  write_file_atomically((dir / "index.json").string(), "{\"checkpoints\": [{\"name\": ");
  try {
    indexed_roles(ckpt(10));
    ADD_FAILURE() << "a damaged index read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "index.json").string() + ": not valid JSON"), std::string::npos) << e.what();
  }
  std::vector<std::string> warnings;
  EXPECT_EQ(choose_resume_checkpoint(dir.string(), [&](const std::string& w) { warnings.push_back(w); }), ckpt(10));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("index.json: not valid JSON"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("kept as " + (dir / "index.json.damaged-").string()), std::string::npos) << warnings[0];
  ASSERT_EQ(entries_named(dir, "index.json.damaged-").size(), 1u);
  EXPECT_EQ(read_file((dir / entries_named(dir, "index.json.damaged-")[0]).string()), "{\"checkpoints\": [{\"name\": ");
  EXPECT_EQ(indexed_roles(ckpt(10)), (std::vector<std::string>{"latest", "copy1"}));  // from its manifest
  EXPECT_FALSE(indexed_roles(ckpt(5)).has_value());
  {
    Writer writer(dir.string(), Retention{2, 0, 0}, false);
    for (int itr : {15, 20, 25}) writer.save(contents(itr), Slots{(itr / 5 - 1) % 2, -1});
  }
  EXPECT_TRUE(verify(ckpt(5)).empty()) << "a checkpoint the damaged index listed was deleted";
  EXPECT_TRUE(fs::exists(ckpt(20)));
  EXPECT_TRUE(fs::exists(ckpt(25)));
}

// Files of a newer schema are refused with both versions named; nothing is skipped or deleted.
TEST_F(Checkpoints, NewerSchemaIsRefusedAndNothingIsDeleted) {
  const auto expect_refused = [&](const std::string& what, const std::function<void()>& f) {
    try {
      f();
      ADD_FAILURE() << what << ": accepted";
    } catch (const NewerSchemaError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("schema version 3"), std::string::npos) << what << ": " << m;
      EXPECT_NE(m.find("(2)"), std::string::npos) << what << ": " << m;
    }
  };
  const auto bump = [](const std::string& file) {
    auto j = nlohmann::json::parse(read_file(file));
    j["schema_version"] = 3;
    write_file_atomically(file, j.dump(2));
  };
  // A newer manifest (as a newer build writes it).
  {
    Writer writer(dir.string(), Retention{2, 0, 0}, false);
    writer.save(contents(5), Slots{0, -1});
    writer.save(contents(10), Slots{1, -1});
  }
  bump(ckpt(10) + "/manifest.json");
  expect_refused("manifest", [&] { choose_resume_checkpoint(dir.string(), [](const std::string&) {}); });
  expect_refused("manifest load", [&] { load_newest_valid(dir.string(), [](const std::string&) {}); });
  EXPECT_TRUE(fs::exists(ckpt(10)));
  EXPECT_TRUE(entries_named(dir, "damaged").empty());
  // A newer index: refused by the writer before it writes anything, and by the choice.
  fs::remove_all(dir);
  { Writer(dir.string(), Retention{2, 0, 0}, false).save(contents(5), Slots{0, -1}); }
  bump((dir / "index.json").string());
  const std::string index_before = read_file((dir / "index.json").string());
  expect_refused("index", [&] { Writer(dir.string(), Retention{2, 0, 0}, false); });
  expect_refused("index choice", [&] { choose_resume_checkpoint(dir.string(), [](const std::string&) {}); });
  EXPECT_EQ(read_file((dir / "index.json").string()), index_before);
}

// A save killed at any stage leaves the previous checkpoints as they were, and the next start
// completes it when its folder made it into place.
TEST_F(Checkpoints, ASaveKilledAfterItsRenameIsCompletedAtTheNextStart) {
  {
    Writer writer(dir.string(), Retention{2, 0, 0}, false);
    writer.save(contents(5), Slots{0, -1});
    writer.save(contents(10), Slots{1, -1});
  }
  struct Killed {};
  Writer::set_stage_hook([](SaveStage s, const std::string&) {
    if (s == SaveStage::folder_renamed) throw Killed{};
  });
  EXPECT_THROW(Writer(dir.string(), Retention{2, 0, 0}, false).save(contents(15), Slots{0, -1}), Killed);
  Writer::set_stage_hook({});
  EXPECT_EQ(read_file((dir / "latest").string()), "itr00000010\n");  // the index never saw 15
  EXPECT_EQ(choose_resume_checkpoint(dir.string(), [](const std::string&) {}), ckpt(15));
  const auto index = index_of(dir);
  ASSERT_EQ(index.at("checkpoints").size(), 2u) << index.dump();
  EXPECT_EQ(index.at("checkpoints")[1].at("roles"), nlohmann::json({"latest", "copy0"})) << index.dump();
  EXPECT_FALSE(fs::exists(ckpt(5)));  // its copy0 went to 15, as the save would have done
  EXPECT_EQ(read_file((dir / "latest").string()), "itr00000015\n");
}

// The trainer's checkpoint life as a model: the real Writer, take_slots and the resume choice,
// under random faults: stop signals, kills between iterations, kills at every stage of a save,
// and runs resumed again without training. After every start and at the end: every role is on
// a valid checkpoint, no checkpoint holds two slots of one ring, nothing completed is lost, and
// the run ends with the copies ring of an uninterrupted run. With the old final save (saved
// again whenever the iteration was not a save_every multiple, even right after resuming there)
// and the old role carry-over, campaign 2 ends with {"itr":15,"roles":["latest","copy0","copy1"]}:
// the collapse seen on the Slurm campaign (issue 17).
TEST_F(Checkpoints, RandomFaultsNeverCollapseTheRingsNorLoseASave) {
  struct Killed {};
  const Retention retention{2, 0, 0};
  const int save_every = 4, total = 60;
  for (std::uint32_t campaign = 0; campaign < 40; ++campaign) {
    std::mt19937 random(campaign);
    fs::remove_all(dir);
    std::int64_t committed = 0;  // the newest save that returned
    std::vector<std::string> history;
    for (int life = 0;; ++life) {
      const std::string chosen = choose_resume_checkpoint(dir.string(), [](const std::string&) {});
      TrainingState state;
      if (!chosen.empty()) state = load(chosen).state;
      ASSERT_GE(state.itr, committed) << "campaign " << campaign << ": a completed save was lost";
      Writer writer(dir.string(), retention, /*async=*/false);
      enum Fault { none, signal, kill, kill_in_save, restart_at_once } fault =
          life > 12 ? none : static_cast<Fault>(random() % 5);
      const std::int64_t at = state.itr + 1 + static_cast<std::int64_t>(random() % 12);
      const auto stage = static_cast<SaveStage>(random() % 4);
      std::int64_t last_saved = chosen.empty() ? -1 : state.itr;
      const auto save = [&]() {
        if (fault == kill_in_save && state.itr >= at)
          Writer::set_stage_hook([stage](SaveStage s, const std::string&) {
            if (s == stage) throw Killed{};
          });
        Contents c = contents(state.itr);
        const Slots slots = take_slots(state, false, retention);
        c.state.itr = state.itr;
        c.state.save_num = state.save_num;
        last_saved = state.itr;
        writer.save(std::move(c), slots);
        committed = state.itr;
      };
      bool finished = false;
      try {
        if (fault != restart_at_once) {
          bool stopped = false;
          while (state.itr < total && !stopped) {
            ++state.itr;
            if (fault == kill && state.itr == at) throw Killed{};
            if (state.itr % save_every == 0) save();
            stopped = fault == signal && state.itr == at;
          }
        }
        if (state.itr != last_saved) save();  // the trainer's final save
        finished = state.itr == total;
      } catch (const Killed&) {
      }
      Writer::set_stage_hook({});
      history.push_back("life " + std::to_string(life) + " fault " + std::to_string(fault) + " at " + std::to_string(at) +
                        " stage " + std::to_string(static_cast<int>(stage)) + " reached " + std::to_string(state.itr));
      std::string trace;
      for (const auto& h : history) trace += "\n  " + h;
      // Every role on an existing valid checkpoint; at most one slot of a ring per checkpoint;
      // each slot held once.
      if (fs::exists(dir / "index.json")) {
        std::map<std::string, int> holders;
        const auto index = index_of(dir);
        for (const auto& e : index.at("checkpoints")) {
          const std::string name = e.at("name");
          ASSERT_TRUE(verify((dir / name).string()).empty()) << "campaign " << campaign << ": " << name << trace;
          int copies = 0;
          for (const auto& r : e.at("roles")) {
            ++holders[r.get<std::string>()];
            copies += r.get<std::string>().rfind("copy", 0) == 0;
          }
          ASSERT_LE(copies, 1) << "campaign " << campaign << ": " << e.dump() << trace;
        }
        for (const auto& [role, n] : holders) ASSERT_EQ(n, 1) << "campaign " << campaign << ": " << role << trace;
      }
      if (finished) break;
      ASSERT_LT(life, 40) << "campaign " << campaign << " never finished" << trace;
    }
    // As an uninterrupted run: the copies ring holds two checkpoints, the last one the end of
    // the run, and nothing else is left on disk.
    std::set<std::string> on_disk;
    for (const auto& c : list(dir.string())) on_disk.insert(fs::path(c).filename().string());
    std::set<std::string> with_copy_role;
    const auto index = index_of(dir);
    for (const auto& e : index.at("checkpoints"))
      for (const auto& r : e.at("roles"))
        if (r.get<std::string>().rfind("copy", 0) == 0) with_copy_role.insert(e.at("name").get<std::string>());
    EXPECT_EQ(with_copy_role.size(), 2u) << "campaign " << campaign << " " << index.dump();
    EXPECT_EQ(on_disk, with_copy_role) << "campaign " << campaign << " " << index.dump();
    EXPECT_TRUE(with_copy_role.count("itr00000060")) << "campaign " << campaign;
  }
}

// Every written file validates against checkpoints-schema/ (needs python3-jsonschema).
TEST_F(Checkpoints, FilesValidateAgainstTheJsonSchemas) {
  if (std::system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3-jsonschema not installed";
  {
    Writer writer(dir.string(), Retention{2, 2, 0}, false);
    writer.save(contents(5), Slots{0, 0});
  }
  const std::string cmd = "/usr/bin/python3 " + std::string(BIGGAN_SOURCE_DIR) + "/tests/ckpt/validate_schemas.py " +
                          std::string(BIGGAN_SOURCE_DIR) + "/checkpoints-schema " + dir.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace
}  // namespace biggan::ckpt
