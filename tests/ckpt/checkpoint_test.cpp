// Checkpoint folders: written atomically with a manifest, damaged ones detected and skipped,
// BigGAN-PyTorch's retention rings, Adam state round trips.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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
  // 4: a flipped bit; 3: truncated; 2: a missing file; 1 stays good.
  {
    std::fstream f(ckpt(4) + "/G.h5", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(ckpt(4) + "/G.h5") - 20));
    f.put('\x5a');
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
