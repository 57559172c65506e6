// .pth interchange with BigGAN-PyTorch: its own weights folders (zip and legacy torch.save,
// written by utils.save_weights) load strictly into our modules; our exports read back exactly;
// and, where Debian's python3-torch is installed, Python's torch.load reads our files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <fstream>

#include "config/module_options.h"
#include "../damage.h"
#include "../error_of.h"
#include "../model/fixture_support.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "io/npz.h"
#include "io/pth.h"
#include "model/networks.h"
#include "model/state_dict.h"

namespace biggan::io {
namespace {

namespace fs = std::filesystem;
using testing::fixture_config;
using testing::fixtures_dir;

std::string weights_dir(const std::string& format) { return fixtures_dir() + "/bp_weights/" + format; }

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("biggan_pth_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void expect_same(const model::StateDict& a, const model::StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [key, tensor] : a) {
    ASSERT_TRUE(b.count(key)) << key;
    EXPECT_TRUE(torch::equal(tensor, b.at(key))) << key;
  }
}

TEST(Pth, ZipAndLegacyWeightsLoadStrictlyAndAgree) {
  BIGGAN_REQUIRE_FIXTURES();
  const auto config = fixture_config("s128_ch8");
  for (const std::string file : {"G.pth", "G_ema.pth", "D.pth"}) {
    const auto zip = model::read_weights_file(weights_dir("zip") + "/" + file);
    const auto legacy = model::read_weights_file(weights_dir("legacy") + "/" + file);
    expect_same(zip, legacy);
    if (file == "D.pth") {
      model::Discriminator D(config::discriminator_options(config));
      const auto report = model::load_state_dict(*D, zip, /*strict=*/true, file);
      EXPECT_TRUE(report.missing.empty() && report.unexpected.empty());
      EXPECT_TRUE(torch::equal(D->named_parameters()["linear.weight"], zip.at("linear.weight")));
    } else {
      model::Generator G(config::generator_options(config));
      model::load_weights_file(*G, weights_dir("legacy") + "/" + file, /*strict=*/true);
      EXPECT_TRUE(torch::equal(G->named_buffers()["blocks.0.0.bn1.stored_var"], zip.at("blocks.0.0.bn1.stored_var")));
    }
  }
}

TEST(Pth, BigGanPytorchWeightsAreTheTrainedFixtureState) {
  BIGGAN_REQUIRE_FIXTURES();
  // bp_weights holds s128_ch8 after one bs-4 iteration, i.e. train_bs4_acc1/after/G.
  H5File fixture(fixtures_dir() + "/s128_ch8/fixture.h5", H5File::Mode::read);
  const auto after = fixture.read_group("train/train_bs4_acc1/after/G");
  const auto loaded = model::read_weights_file(weights_dir("zip") + "/G.pth");
  ASSERT_EQ(after.size(), loaded.size());
  for (const auto& [key, tensor] : after) {
    ASSERT_TRUE(loaded.count(key)) << key;
    ASSERT_EQ(loaded.at(key).sizes(), tensor.sizes()) << key;
    // G conv biases move by a random +-lr between two correct runs (fixtures README), so the
    // comparison allows 2 lr absolutely. BN running statistics are left out: the weights folder
    // comes from its own run, whose extra train-mode forwards (saving samples) moved them.
    if (key.find("stored_") != std::string::npos) continue;
    const double err = (loaded.at(key) - tensor).abs().max().item<double>();
    EXPECT_LT(err, 2.5e-4) << key;
  }
}

TEST(Pth, ReadsOptimizerAndTrainingStateFiles) {
  BIGGAN_REQUIRE_FIXTURES();
  for (const std::string format : {"zip", "legacy"}) {
    const PyRef optim = read_pth(weights_dir(format) + "/G_optim.pth");
    ASSERT_EQ(optim->kind, PyValue::Kind::dict);
    const auto json = to_json(*optim);
    ASSERT_TRUE(json.contains("param_groups")) << format;
    EXPECT_DOUBLE_EQ(json["param_groups"][0]["lr"].get<double>(), 1e-4);
    EXPECT_DOUBLE_EQ(json["param_groups"][0]["eps"].get<double>(), 1e-6);
    // Adam's per-parameter state: exp_avg tensors keyed by parameter index.
    const auto& state = optim->entries.at(0);
    EXPECT_EQ(state.first->text, "state");
    ASSERT_FALSE(state.second->entries.empty());
    bool found_tensor = false;
    for (const auto& [name, value] : state.second->entries.front().second->entries)
      if (name->text == "exp_avg") found_tensor = value->kind == PyValue::Kind::tensor && value->tensor.numel() > 0;
    EXPECT_TRUE(found_tensor) << format;

    // state_dict.pth holds nn.ReLU objects in its config; those stay opaque, the rest is read.
    const auto config = read_biggan_pytorch_config(weights_dir(format) + "/state_dict.pth");
    EXPECT_EQ(config["G_ch"].get<int>(), 8) << format;
    EXPECT_EQ(config["dataset"].get<std::string>(), "I128_hdf5");
    EXPECT_TRUE(config["hier"].get<bool>());
  }
}

TEST(Pth, ConfigFromStateDictBuildsTheSameModel) {
  BIGGAN_REQUIRE_FIXTURES();
  const auto flags = read_biggan_pytorch_config(weights_dir("zip") + "/state_dict.pth");
  const auto config = config::load({}, config::overrides_from_biggan_pytorch(flags), 1);
  model::Generator G(config::generator_options(config));
  model::load_weights_file(*G, weights_dir("zip") + "/G_ema.pth", /*strict=*/true);
  EXPECT_EQ(model::parameter_count(*G), 823700);
}

TEST(Pth, ExportedWeightsReadBackExactlyInPyTorchOrder) {
  BIGGAN_REQUIRE_FIXTURES();
  const auto config = fixture_config("s128_ch8");
  model::Generator G(config::generator_options(config));
  model::load_weights_file(*G, weights_dir("zip") + "/G.pth", true);
  const fs::path dir = temp_dir("export");
  for (const std::string name : {"G.pth", "G.h5"}) {
    model::save_weights_file(*G, (dir / name).string());
    expect_same(model::read_weights_file((dir / name).string()), model::state_dict(*G));
  }
  // Keys come out in the order BigGAN-PyTorch's state_dict() lists them.
  const auto entries = read_pth_state_dict((dir / "G.pth").string());
  std::ifstream listing(fixtures_dir() + "/keys_s128_ch8.txt");
  std::vector<std::string> expected;
  std::string line;
  bool in_G = false;
  while (std::getline(listing, line)) {
    if (line == "[G]") in_G = true;
    else if (line == "[D]") break;
    else if (in_G && !line.empty() && line[0] != '#') expected.push_back(line.substr(0, line.find('\t')));
  }
  ASSERT_EQ(entries.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(entries[i].first, expected[i]) << i;
  fs::remove_all(dir);
}

TEST(Pth, DamagedFilesAreClearErrors) {
  BIGGAN_REQUIRE_FIXTURES();
  const fs::path dir = temp_dir("damaged");
  const std::string source = read_file(weights_dir("legacy") + "/G.pth");
  const auto expect_error = [](const std::string& path, const std::string& fragment) {
    const std::string what = testing::error_of([&] { read_pth_state_dict(path); });
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  };
  std::ofstream(dir / "truncated.pth", std::ios::binary) << source.substr(0, source.size() / 2);
  expect_error((dir / "truncated.pth").string(), "truncated");
  std::ofstream(dir / "text.pth") << "not a checkpoint";
  expect_error((dir / "text.pth").string(), "");
  const std::string zip = read_file(weights_dir("zip") + "/G.pth");
  std::ofstream(dir / "cut.pth", std::ios::binary) << zip.substr(0, zip.size() - 100);
  expect_error((dir / "cut.pth").string(), "zip");
  expect_error(weights_dir("zip") + "/G_optim.pth", "not a tensor");
  fs::remove_all(dir);
}

std::string pickle_text(const std::string& s) { return "X" + std::string{static_cast<char>(s.size()), 0, 0, 0} + s; }

// The pickle of a float tensor on storage "0" (of `numel` elements): `sizes` and `strides` as its
// _rebuild_tensor_v2 call's tuples, `offset` its storage offset (each as pickle opcodes).
std::string tensor_pickle(const std::string& sizes, const std::string& strides, const std::string& numel,
                          const std::string& offset = std::string("K\x00", 2)) {
  return "ctorch._utils\n_rebuild_tensor_v2\n((" + pickle_text("storage") + "ctorch\nFloatStorage\n" + pickle_text("0") +
         pickle_text("cpu") + numel + "NtQ" + offset + sizes + strides + "tR";
}

// A legacy torch.save file built opcode by opcode, so that a test can give it the damage a real
// file could carry: `object` is the saved object's pickle (without PROTO and STOP), storage "0"
// holds `stored` floats (no storage at all when `stored` is negative).
std::string legacy_pth(const std::string& object, int stored) {
  std::string out;
  out += std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);  // the magic number
  out += std::string("\x80\x02M\xe9\x03.", 6);                                            // protocol 1001
  out += "N.";                                                                           // sys_info
  out += std::string("\x80\x02", 2) + object + ".";
  if (stored < 0) return out + "].";       // no storage keys
  out += "](" + pickle_text("0") + "e.";  // the storage keys
  const std::int64_t count = stored;
  out += std::string(reinterpret_cast<const char*>(&count), 8) + std::string(4 * static_cast<std::size_t>(stored), '\0');
  return out;
}

std::string legacy_pth(const std::string& sizes, const std::string& strides, const std::string& numel, int stored) {
  return legacy_pth(tensor_pickle(sizes, strides, numel), stored);
}

// Damage a fuzzer found (with AddressSanitizer) or could: each an Error naming the file, never a
// crash, a LibTorch message without the file, or an allocation the file cannot back.
TEST(Pth, DamagedTensorHeadersAreClearErrors) {
  const fs::path dir = temp_dir("headers");
  const std::string path = (dir / "G.pth").string();
  const std::string two_by_two = "K\x02K\x02\x86", strides = "K\x02K\x01\x86";
  write_file_atomically(path, legacy_pth(two_by_two, strides, "K\x04", 4));
  const auto good = read_pth(path);
  ASSERT_EQ(good->kind, PyValue::Kind::tensor);
  EXPECT_EQ(good->tensor.sizes(), (std::vector<std::int64_t>{2, 2}));
  const auto expect_error = [&](const std::string& bytes, const std::string& fragment) {
    write_file_atomically(path, bytes);
    const std::string what = testing::error_of([&] { read_pth(path); });
    EXPECT_NE(what.find(path + ": "), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  };
  expect_error(legacy_pth(two_by_two, "K\x02\x85", "K\x04", 4), "a tensor with 2 sizes but 1 strides");
  expect_error(legacy_pth(two_by_two, strides, "K\x03", 3), "tensor view outside its storage");
  expect_error(legacy_pth(two_by_two, "K\x7fJ\xff\xff\xff\x7f\x86", "K\x04", 4), "tensor view outside its storage");
  expect_error(legacy_pth("J\xfe\xff\xff\xffK\x02\x86", strides, "K\x04", 4), "a negative tensor size or stride");
  expect_error(legacy_pth(two_by_two, strides, std::string("\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x01", 10), 4),
               "storage 0 claims 72057594037927936 elements, more than the file holds");
  fs::remove_all(dir);
}

// Pickles that nest a value 100,000 deep (which a recursive free would overflow the stack with),
// or refer to one value twice at each of 40 levels (2^40 values once written out), are refused.
TEST(Pth, DeepAndSelfRepeatingPicklesAreRefused) {
  const fs::path dir = temp_dir("nesting");
  const std::string path = (dir / "state_dict.pth").string();
  write_file_atomically(path, legacy_pth(std::string(100000, ']') + std::string(99999, 'a'), -1));
  const std::string deep = testing::error_of([&] { read_pth(path); });
  EXPECT_NE(deep.find(path + ": cannot read this .pth file (values nested more than 1000 levels deep"), std::string::npos)
      << deep;
  // memo[0] = [], memo[i] = (memo[i-1], memo[i-1]), then {"config": {"x": memo[40]}}.
  std::string doubling("]q\x00", 3);
  for (int i = 1; i <= 40; ++i)
    doubling += std::string("h") + static_cast<char>(i - 1) + "\x86q" + static_cast<char>(i);  // TUPLE2 of the top twice
  write_file_atomically(path, legacy_pth("}" + pickle_text("config") + "}" + pickle_text("x") + doubling + "ss", -1));
  EXPECT_EQ(read_pth(path)->entries.size(), 1u);  // the structure itself is small: 41 values
  const std::string doubled = testing::error_of([&] { read_biggan_pytorch_config(path); });
  EXPECT_NE(doubled.find(path + ": 'config': more than 1000000 values"), std::string::npos) << doubled;
  fs::remove_all(dir);
}

// A state_dict-like legacy file: two views of one storage and a config dict of every value kind.
std::string rich_legacy_pth() {
  double lr = 2e-4;
  std::string big_endian(8, '\0');
  std::memcpy(big_endian.data(), &lr, 8);
  std::reverse(big_endian.begin(), big_endian.end());
  const std::string two_by_two = "K\x02K\x02\x86", row_major = "K\x02K\x01\x86";
  return legacy_pth("}(" + pickle_text("w") + tensor_pickle(two_by_two, row_major, "K\x06") + pickle_text("b") +
                        tensor_pickle("K\x02\x85", "K\x01\x85", "K\x06", "K\x04") + pickle_text("config") + "}(" +
                        pickle_text("G_ch") + "K\x08" + pickle_text("lr") + "G" + big_endian + pickle_text("attn") +
                        "](K\x40K\x20" "e" + pickle_text("none") + "N" + pickle_text("hier") + "\x88" + "uu",
                    6);
}

// Thousands of mutations (bytes replaced, bits flipped, extreme values, cuts) of a legacy file,
// a zip file of ours and an .npy array: each loads or is an Error naming the file; never a crash,
// a hang or another exception. (A run of this under AddressSanitizer found the strides overrun.)
TEST(Pth, MutatedFilesLoadOrAreErrors) {
  const fs::path dir = temp_dir("fuzz");
  const std::string path = (dir / "G.pth").string();
  write_file_atomically(path, rich_legacy_pth());
  const auto rich = read_pth(path);
  const auto config = to_json(*rich).at("config");
  ASSERT_EQ(config.at("G_ch"), 8);
  ASSERT_EQ(config.at("lr"), 2e-4);
  ASSERT_EQ(config.at("attn"), nlohmann::json::array({64, 32}));
  write_pth_state_dict((dir / "zip.pth").string(), {{"w", torch::arange(6.0).view({2, 3})}, {"n", torch::tensor(5)}});
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"legacy", rich_legacy_pth()},
      {"zip", read_file((dir / "zip.pth").string())},
      {"npy", npy_bytes(torch::arange(12.0).view({3, 4}))}};
  std::mt19937 rng(22);
  int loaded = 0, refused = 0;
  for (const auto& seed : seeds) {
    const std::string& name = seed.first;
    const auto outcomes = testing::load_mutations(seed.second, rng, 1500, path, [&](const std::string& damaged, int) {
      if (name == "npy") {
        parse_npy(damaged, path);
      } else {
        write_file_atomically(path, damaged);
        to_json(*read_pth(path));
      }
    });
    ASSERT_FALSE(HasFailure()) << name;
    loaded += outcomes.loaded;
    refused += outcomes.refused;
  }
  std::cout << "loaded " << loaded << ", refused " << refused << "\n";
  EXPECT_GT(loaded, 300);
  EXPECT_GT(refused, 2000);
  fs::remove_all(dir);
}

// PyTorch's own reader does not check a zip record's CRC-32: a flipped byte in a tensor would
// load as a silently different weight. Ours names the file and the record.
TEST(Pth, AFlippedByteInATensorIsACrcError) {
  const fs::path dir = temp_dir("flipped");
  const std::string path = (dir / "G.pth").string();
  write_pth_state_dict(path, {{"weight", torch::arange(4096, torch::kFloat32)}, {"bias", torch::ones({8})}});
  ASSERT_EQ(read_pth_state_dict(path).size(), 2u);
  ASSERT_TRUE(testing::flip_stored_value(path, 2048.0f, 1, 0x10));  // an element in the middle of "weight"
  const std::string bytes = read_file(path);
  const std::string flipped = testing::error_of([&] { read_pth_state_dict(path); });
  EXPECT_NE(flipped.find(path + ": record "), std::string::npos) << flipped;
  EXPECT_NE(flipped.find("/data/0 fails its CRC-32 check"), std::string::npos) << flipped;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 30);
  const std::string truncated = testing::error_of([&] { read_pth_state_dict(path); });
  EXPECT_NE(truncated.find(path + ": damaged or truncated"), std::string::npos) << truncated;
  fs::remove_all(dir);
}

// Python's torch.load reads our export as the same tensors, and files Python writes in both
// formats (including an OrderedDict state_dict) read back in C++. Needs Debian's python3-torch.
TEST(Pth, PythonRoundTrip) {
  BIGGAN_REQUIRE_FIXTURES();
  const std::string python = "/usr/bin/python3";
  if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << python << " has no torch (apt-get install python3-torch to run this test)";
  const auto config = fixture_config("s128_ch8");
  model::Generator G(config::generator_options(config));
  model::load_weights_file(*G, weights_dir("zip") + "/G.pth", true);
  const fs::path dir = temp_dir("python");
  model::save_weights_file(*G, (dir / "ours.pth").string());
  const std::string script = std::string(BIGGAN_SOURCE_DIR) + "/tests/io/pth_roundtrip.py";
  const std::string command = python + " " + script + " " + (dir / "ours.pth").string() + " " + weights_dir("zip") +
                              "/G.pth " + dir.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  for (const std::string name : {"python_zip.pth", "python_legacy.pth"})
    expect_same(model::read_weights_file((dir / name).string()), model::state_dict(*G));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace biggan::io
