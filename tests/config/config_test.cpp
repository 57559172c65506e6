// The typed config: defaults equal BigGAN-PyTorch's parser, launch-script configs resolve to
// their scripts' flags, and bad input gets an error naming the file, line and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "core/error.h"

namespace biggan::config {
namespace {

const std::string kConfigs = std::string(BIGGAN_SOURCE_DIR) + "/configs/";

Config resolved(const std::string& yaml, int world_size = 1) {
  Config c;
  apply_yaml_text(c, yaml, "test.yaml");
  resolve(c, world_size);
  return c;
}

TEST(ConfigDefaults, EqualBigGANPyTorchParser) {
  Config c;
  resolve(c, 1);
  EXPECT_EQ(c.data.dataset, "I128_hdf5");
  EXPECT_EQ(c.data.data_root, "data");
  EXPECT_FALSE(c.data.augment);
  EXPECT_FALSE(c.data.shuffle);
  EXPECT_FALSE(c.data.load_in_mem);
  EXPECT_TRUE(c.data.pin_memory);
  EXPECT_STREQ(choice_name(c.model.model), "BigGAN");
  EXPECT_STREQ(choice_name(c.model.G_param), "SN");
  EXPECT_STREQ(choice_name(c.model.D_param), "SN");
  EXPECT_EQ(c.model.G_ch, 64);
  EXPECT_EQ(c.model.D_ch, 64);
  EXPECT_EQ(c.model.G_depth, 1);
  EXPECT_EQ(c.model.D_depth, 1);
  EXPECT_TRUE(c.model.D_wide);
  EXPECT_FALSE(c.model.G_shared);
  EXPECT_EQ(c.model.shared_dim, 0);
  EXPECT_EQ(c.model.dim_z, 128);
  EXPECT_FALSE(c.model.hier);
  EXPECT_FALSE(c.model.cross_replica);
  EXPECT_FALSE(c.model.mybn);
  EXPECT_STREQ(choice_name(c.model.G_nl), "relu");
  EXPECT_STREQ(choice_name(c.model.D_nl), "relu");
  EXPECT_EQ(c.model.G_attn, "64");
  EXPECT_EQ(c.model.D_attn, "64");
  EXPECT_STREQ(choice_name(c.model.norm_style), "bn");
  EXPECT_STREQ(choice_name(c.model.G_init), "ortho");
  EXPECT_STREQ(choice_name(c.model.D_init), "ortho");
  EXPECT_FALSE(c.model.skip_init);
  EXPECT_DOUBLE_EQ(c.model.SN_eps, 1e-8);
  EXPECT_EQ(c.model.num_G_SVs, 1);
  EXPECT_EQ(c.model.num_D_SVs, 1);
  EXPECT_EQ(c.model.num_G_SV_itrs, 1);
  EXPECT_EQ(c.model.num_D_SV_itrs, 1);
  EXPECT_DOUBLE_EQ(c.model.BN_eps, 1e-5);
  EXPECT_EQ(c.model.bottom_width, 4);
  EXPECT_DOUBLE_EQ(c.optim.G_lr, 5e-5);
  EXPECT_DOUBLE_EQ(c.optim.D_lr, 2e-4);
  EXPECT_DOUBLE_EQ(c.optim.G_B1, 0.0);
  EXPECT_DOUBLE_EQ(c.optim.D_B1, 0.0);
  EXPECT_DOUBLE_EQ(c.optim.G_B2, 0.999);
  EXPECT_DOUBLE_EQ(c.optim.D_B2, 0.999);
  EXPECT_DOUBLE_EQ(c.optim.adam_eps, 1e-8);
  EXPECT_DOUBLE_EQ(c.optim.G_ortho, 0.0);
  EXPECT_DOUBLE_EQ(c.optim.D_ortho, 0.0);
  EXPECT_TRUE(c.optim.toggle_grads);
  EXPECT_EQ(c.train.seed, 0);
  EXPECT_EQ(c.train.batch_size, 64);
  EXPECT_EQ(c.train.G_batch_size, 0);
  EXPECT_EQ(c.train.num_D_steps, 2);
  EXPECT_EQ(c.train.num_D_accumulations, 1);
  EXPECT_EQ(c.train.num_G_accumulations, 1);
  EXPECT_FALSE(c.train.split_D);
  EXPECT_EQ(c.train.num_epochs, 100);
  EXPECT_STREQ(choice_name(c.train.which_train_fn), "GAN");
  EXPECT_FALSE(c.train.ema);
  EXPECT_DOUBLE_EQ(c.train.ema_decay, 0.9999);
  EXPECT_FALSE(c.train.use_ema);
  EXPECT_EQ(c.train.ema_start, 0);
  EXPECT_EQ(c.ckpt.save_every, 2000);
  EXPECT_EQ(c.ckpt.num_save_copies, 2);
  EXPECT_EQ(c.ckpt.num_best_copies, 2);
  EXPECT_STREQ(choice_name(c.ckpt.which_best), "IS");
  EXPECT_EQ(c.eval.test_every, 5000);
  EXPECT_EQ(c.eval.num_inception_images, 50000);
  EXPECT_FALSE(c.eval.no_fid);
  EXPECT_FALSE(c.eval.accumulate_stats);
  EXPECT_EQ(c.eval.num_standing_accumulations, 16);
  EXPECT_FALSE(c.eval.G_eval_mode);
  EXPECT_DOUBLE_EQ(c.sample.z_var, 1.0);
  EXPECT_FALSE(c.sample.sample_npz);
  EXPECT_EQ(c.sample.sample_num_npz, 50000);
  EXPECT_EQ(c.sample.sample_sheet_folder_num, -1);
  EXPECT_EQ(c.sample.sample_trunc_curves, "");
  EXPECT_EQ(c.log.sv_log_interval, 10);
  EXPECT_EQ(c.paths.base_root, "");
  EXPECT_EQ(c.paths.experiment_name, "");
  EXPECT_EQ(c.paths.name_suffix, "");
  EXPECT_FALSE(c.paths.hashname);
  // Derived values of the defaults (spec §1: resolution and n_classes from the dataset dicts).
  EXPECT_EQ(c.derived.resolution, 128);
  EXPECT_EQ(c.derived.n_classes, 1000);
  EXPECT_EQ(c.derived.classes_per_sheet, 20);
  EXPECT_EQ(c.derived.G_batch_size, 64);
  EXPECT_EQ(c.derived.loader_batch_per_rank, 128);  // 64 x 2 D steps x 1 accumulation
  EXPECT_EQ(c.derived.dataset_path, "data/ILSVRC128.hdf5");
  EXPECT_EQ(c.derived.shared_dim, 128);
}

// The flags of each BigGAN-PyTorch launch script (spec §9), checked on the resolved config.
TEST(LaunchScriptConfigs, ReferenceBs256x8) {
  const Config c = load({kConfigs + "biggan128_bs256x8.yaml"}, {}, 1);
  EXPECT_EQ(c.data.dataset, "I128_hdf5");
  EXPECT_TRUE(c.data.shuffle);
  EXPECT_TRUE(c.data.load_in_mem);
  EXPECT_EQ(c.train.batch_size, 256);
  EXPECT_EQ(c.derived.num_G_accumulations, 8);
  EXPECT_EQ(c.derived.num_D_accumulations, 8);
  EXPECT_EQ(c.train.num_D_steps, 1);
  EXPECT_DOUBLE_EQ(c.optim.G_lr, 1e-4);
  EXPECT_DOUBLE_EQ(c.optim.D_lr, 4e-4);
  EXPECT_DOUBLE_EQ(c.optim.G_B2, 0.999);
  EXPECT_DOUBLE_EQ(c.optim.D_B2, 0.999);
  EXPECT_DOUBLE_EQ(c.optim.G_B1, 0.0);
  EXPECT_DOUBLE_EQ(c.optim.adam_eps, 1e-6);
  EXPECT_EQ(c.model.G_attn, "64");
  EXPECT_EQ(c.model.D_attn, "64");
  EXPECT_STREQ(choice_name(c.model.G_nl), "inplace_relu");
  EXPECT_STREQ(choice_name(c.model.D_nl), "inplace_relu");
  EXPECT_DOUBLE_EQ(c.model.SN_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.model.BN_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.optim.G_ortho, 0.0);
  EXPECT_TRUE(c.model.G_shared);
  EXPECT_STREQ(choice_name(c.model.G_init), "ortho");
  EXPECT_STREQ(choice_name(c.model.D_init), "ortho");
  EXPECT_TRUE(c.model.hier);
  EXPECT_EQ(c.model.dim_z, 120);
  EXPECT_EQ(c.model.shared_dim, 128);
  EXPECT_TRUE(c.eval.G_eval_mode);
  EXPECT_EQ(c.model.G_ch, 96);
  EXPECT_EQ(c.model.D_ch, 96);
  EXPECT_TRUE(c.train.ema);
  EXPECT_TRUE(c.train.use_ema);
  EXPECT_EQ(c.train.ema_start, 20000);
  EXPECT_EQ(c.eval.test_every, 2000);
  EXPECT_EQ(c.ckpt.save_every, 1000);
  EXPECT_EQ(c.ckpt.num_best_copies, 5);
  EXPECT_EQ(c.ckpt.num_save_copies, 2);
  EXPECT_EQ(c.train.seed, 0);
  EXPECT_EQ(c.derived.global_batch_size, 2048);
  EXPECT_EQ(c.derived.loader_batch_per_rank, 2048);  // spec §3.2 worked example
  EXPECT_EQ(c.derived.dim_z, 120);
  EXPECT_EQ(c.derived.num_slots, 6);
  EXPECT_EQ(c.derived.z_chunk_size, 20);
}

TEST(LaunchScriptConfigs, Bs512x4AndCh64) {
  const Config a = load({kConfigs + "biggan128_bs512x4.yaml"}, {}, 1);
  EXPECT_EQ(a.train.batch_size, 512);
  EXPECT_EQ(a.derived.num_D_accumulations, 4);
  EXPECT_EQ(a.derived.num_G_accumulations, 4);
  EXPECT_EQ(a.model.G_ch, 96);
  const Config b = load({kConfigs + "biggan128_ch64_bs256x8.yaml"}, {}, 1);
  EXPECT_EQ(b.model.G_ch, 64);
  EXPECT_EQ(b.model.D_ch, 64);
  EXPECT_EQ(b.derived.num_D_accumulations, 8);
}

TEST(LaunchScriptConfigs, Deep) {
  const Config c = load({kConfigs + "biggandeep128_bs256x8.yaml"}, {}, 1);
  EXPECT_STREQ(choice_name(c.model.model), "BigGANdeep");
  EXPECT_EQ(c.model.G_ch, 128);
  EXPECT_EQ(c.model.D_ch, 128);
  EXPECT_EQ(c.model.G_depth, 2);
  EXPECT_EQ(c.model.D_depth, 2);
  EXPECT_EQ(c.model.dim_z, 128);
  EXPECT_EQ(c.derived.dim_z, 128);  // no chunking in BigGAN-deep
  EXPECT_EQ(c.model.shared_dim, 128);
  EXPECT_TRUE(c.model.hier);
  EXPECT_TRUE(c.model.G_shared);
  EXPECT_FALSE(c.data.load_in_mem);
  EXPECT_EQ(c.ckpt.save_every, 500);
  EXPECT_EQ(c.derived.num_D_accumulations, 8);
}

TEST(LaunchScriptConfigs, SAGAN) {
  const Config c = load({kConfigs + "sagan128_bs128x2_ema.yaml"}, {}, 1);
  EXPECT_EQ(c.train.batch_size, 128);
  EXPECT_EQ(c.derived.num_D_accumulations, 2);
  EXPECT_EQ(c.derived.num_G_accumulations, 2);
  EXPECT_EQ(c.train.num_D_steps, 1);
  EXPECT_DOUBLE_EQ(c.optim.G_lr, 1e-4);
  EXPECT_DOUBLE_EQ(c.optim.D_lr, 4e-4);
  EXPECT_STREQ(choice_name(c.model.G_nl), "relu");
  EXPECT_DOUBLE_EQ(c.model.SN_eps, 1e-8);
  EXPECT_DOUBLE_EQ(c.optim.adam_eps, 1e-8);
  EXPECT_STREQ(choice_name(c.model.G_init), "xavier");
  EXPECT_TRUE(c.train.ema);
  EXPECT_TRUE(c.train.use_ema);
  EXPECT_EQ(c.train.ema_start, 2000);
  EXPECT_TRUE(c.eval.G_eval_mode);
  EXPECT_FALSE(c.model.G_shared);
  EXPECT_FALSE(c.model.hier);
  EXPECT_EQ(c.model.G_ch, 64);
  EXPECT_EQ(c.paths.name_suffix, "SAGAN_ema");
}

TEST(LaunchScriptConfigs, SNGAN) {
  const Config c = load({kConfigs + "sngan128.yaml"}, {}, 1);
  EXPECT_EQ(c.train.batch_size, 64);
  EXPECT_EQ(c.train.num_D_steps, 5);
  EXPECT_DOUBLE_EQ(c.optim.G_lr, 2e-4);
  EXPECT_DOUBLE_EQ(c.optim.D_lr, 2e-4);
  EXPECT_DOUBLE_EQ(c.optim.G_B2, 0.9);
  EXPECT_DOUBLE_EQ(c.optim.D_B2, 0.9);
  EXPECT_EQ(c.model.G_attn, "0");
  EXPECT_FALSE(c.model.D_wide);
  EXPECT_STREQ(choice_name(c.model.D_init), "xavier");
  EXPECT_TRUE(c.eval.G_eval_mode);
  EXPECT_FALSE(c.train.ema);
  EXPECT_EQ(c.paths.name_suffix, "SNGAN");
  EXPECT_TRUE(c.derived.G_attn.empty());
}

TEST(LaunchScriptConfigs, CIFAR) {
  const Config c = load({kConfigs + "cifar10_ema.yaml"}, {}, 1);
  EXPECT_EQ(c.data.dataset, "C10");
  EXPECT_EQ(c.derived.resolution, 32);
  EXPECT_EQ(c.derived.n_classes, 10);
  EXPECT_EQ(c.train.batch_size, 50);
  EXPECT_EQ(c.train.num_epochs, 500);
  EXPECT_EQ(c.train.num_D_steps, 4);
  EXPECT_DOUBLE_EQ(c.optim.G_lr, 2e-4);
  EXPECT_DOUBLE_EQ(c.optim.G_B2, 0.999);
  EXPECT_STREQ(choice_name(c.model.G_init), "N02");
  EXPECT_EQ(c.train.ema_start, 1000);
  EXPECT_EQ(c.eval.test_every, 5000);
  EXPECT_EQ(c.ckpt.save_every, 2000);
  EXPECT_FALSE(c.eval.G_eval_mode);
  EXPECT_FALSE(c.model.G_shared);
}

TEST(LaunchScriptConfigs, FmnistDemoIs32pxTenClasses) {
  const Config c = load({kConfigs + "fmnist_demo.yaml"}, {}, 2);
  EXPECT_EQ(c.derived.resolution, 32);
  EXPECT_EQ(c.derived.n_classes, 10);
  EXPECT_EQ(c.derived.world_size, 2);
  EXPECT_EQ(c.derived.global_batch_size, 2L * c.train.batch_size);
  // The metric and the sheets use G_ema's own standing statistics (configs/README.md).
  EXPECT_TRUE(c.eval.accumulate_stats);
  EXPECT_EQ(c.eval.num_standing_accumulations, 64);
  // Both rates fall over the last 250 of the 1,250 iterations (README "The demo").
  EXPECT_EQ(c.optim.lr_schedule, LrSchedule::linear_decay);
  EXPECT_EQ(c.train.total_iterations, 1250);
  EXPECT_EQ(c.optim.lr_decay_start, 1000);
}

TEST(ConfigOverrides, LaterFilesAndSetWin) {
  const std::string dir = ::testing::TempDir() + "/biggan_cfg_override";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/a.yaml") << "train:\n  batch_size: 32\n  seed: 5\n";
  std::ofstream(dir + "/b.yaml") << "train:\n  batch_size: 16\n";
  const Config c = load({dir + "/a.yaml", dir + "/b.yaml"}, {"train.seed=7", "model.G_attn=32_64"}, 1);
  EXPECT_EQ(c.train.batch_size, 16);
  EXPECT_EQ(c.train.seed, 7);
  EXPECT_EQ(c.model.G_attn, "32_64");
  EXPECT_EQ(c.derived.G_attn, (std::vector<int>{32, 64}));
  EXPECT_EQ(c.where("train.batch_size"), dir + "/b.yaml:2");
  EXPECT_EQ(c.where("train.seed"), "--set");
  EXPECT_EQ(c.where("train.num_D_steps"), "default");
}

TEST(ConfigOverrides, DiffAugPolicyKeepsItsOrderAndPrintsBack) {
  const Config c = load({kConfigs + "fmnist_demo.yaml"}, {"train.diffaug=translation, color"}, 1);
  EXPECT_EQ(c.train.diffaug, (AugmentPolicy{Augmentation::translation, Augmentation::color}));
  EXPECT_NE(to_yaml(c).find("diffaug: \"translation,color\""), std::string::npos);
  EXPECT_EQ(resolved(to_yaml(c)).train.diffaug, c.train.diffaug);
  EXPECT_TRUE(load({kConfigs + "fmnist_demo.yaml"}, {"train.diffaug="}, 1).train.diffaug.empty());
  EXPECT_TRUE(load({kConfigs + "fmnist_demo.yaml"}, {}, 1).train.diffaug.empty());  // off by default
}

TEST(ConfigOverrides, PrintedYamlLoadsBackToTheSameConfig) {
  for (const char* name : {"biggan128_bs256x8.yaml", "sngan128.yaml", "cifar10_ema.yaml", "fmnist_demo.yaml",
                           "biggandeep128_bs256x8.yaml", "sagan128_bs128x2_ema.yaml"}) {
    const Config c = load({kConfigs + name}, {}, 1);
    const std::string yaml = to_yaml(c);
    const Config again = resolved(yaml);
    EXPECT_EQ(to_yaml(again), yaml) << name;
  }
}

TEST(ConfigDerived, GlobalBatchFollowsWorldSize) {
  const std::string base = "train:\n  batch_size: 256\n  global_batch_size: 2048\n";
  EXPECT_EQ(resolved(base, 1).derived.num_D_accumulations, 8);
  EXPECT_EQ(resolved(base, 4).derived.num_D_accumulations, 2);
  EXPECT_EQ(resolved(base, 8).derived.num_D_accumulations, 1);
  EXPECT_EQ(resolved(base, 8).derived.global_batch_size, 2048);
  // Without global_batch_size the accumulation count is what was given.
  const Config c = resolved("train:\n  batch_size: 8\n  num_D_accumulations: 3\n  num_D_steps: 2\n", 2);
  EXPECT_EQ(c.derived.global_batch_size, 48);
  EXPECT_EQ(c.derived.loader_batch_per_rank, 48);
  EXPECT_EQ(c.derived.images_per_iteration, 96);
}

TEST(ConfigDerived, HierRoundsDimZAndWarns) {
  const Config c = resolved("model:\n  G_shared: true\n  hier: true\n  dim_z: 128\n");
  EXPECT_EQ(c.derived.dim_z, 126);  // spec §1.2: 128 -> 126 at 128 px
  EXPECT_EQ(c.derived.shared_dim, 128);
  ASSERT_FALSE(c.warnings.empty());
  EXPECT_NE(c.warnings[0].find("126"), std::string::npos);
}

TEST(ConfigDerived, TruncationCurveRunsFromStartToEndInclusive) {
  const Config c = resolved("sample:\n  sample_trunc_curves: 0.05_0.05_1.0\n");
  ASSERT_EQ(c.derived.truncation_curve.size(), 20u);
  EXPECT_EQ(c.derived.truncation_curve.front(), 0.05);
  EXPECT_EQ(c.derived.truncation_curve[2], 0.15);  // rounded: 0.05 + 2 x 0.05 is 0.15000000000000002
  EXPECT_EQ(c.derived.truncation_curve.back(), 1.0);
  EXPECT_TRUE(resolved("").derived.truncation_curve.empty());
}

TEST(ConfigDerived, BaseRootMovesDataAndRuns) {
  const Config c = resolved("paths:\n  base_root: /scratch/me\n");
  EXPECT_EQ(c.derived.dataset_path, "/scratch/me/data/ILSVRC128.hdf5");
  EXPECT_EQ(c.derived.run_dir.rfind("/scratch/me/runs/BigGAN_I128_hdf5_seed0", 0), 0u);
}

TEST(ConfigDerived, CustomDataset) {
  const Config c = resolved("data:\n  dataset: custom\n  path: x.h5\n  resolution: 64\n  n_classes: 7\n");
  EXPECT_EQ(c.derived.resolution, 64);
  EXPECT_EQ(c.derived.n_classes, 7);
  EXPECT_EQ(c.derived.dataset_path, "x.h5");
}

TEST(ConfigParse, TestAtIsAListOfIterations) {
  EXPECT_TRUE(resolved("").eval.test_at.empty());
  const Config c = resolved("train:\n  total_iterations: 1250\neval:\n  test_at: [1150, 1200]\n");
  EXPECT_EQ(c.eval.test_at, (std::vector<std::int64_t>{1150, 1200}));
  EXPECT_EQ(resolved("eval:\n  test_at: 7\n").eval.test_at, (std::vector<std::int64_t>{7}));
  EXPECT_TRUE(resolved("eval:\n  test_at: []\n").eval.test_at.empty());
  // Past the run's end is allowed: the demo's config shortened, or a run to be extended.
  EXPECT_EQ(resolved("train:\n  total_iterations: 100\neval:\n  test_at: [50, 1150]\n").eval.test_at.size(), 2u);
  Config set;
  apply_override(set, "eval.test_at=[3, 9]");
  EXPECT_EQ(set.eval.test_at, (std::vector<std::int64_t>{3, 9}));
  // Printed as a list that reads back the same.
  const std::string yaml = to_yaml(c, false);
  EXPECT_NE(yaml.find("test_at: [1150, 1200]"), std::string::npos) << yaml;
  Config again;
  apply_yaml_text(again, yaml, "printed.yaml");
  EXPECT_EQ(again.eval.test_at, c.eval.test_at);
  // Evaluating does not change training: a run resumes under other test_at.
  Config other = c;
  other.eval.test_at = {5};
  EXPECT_TRUE(run_identity_differences(c, other).empty());
}

// ---- Bad input: every message names the place and the key. -------------------------------

struct BadCase {
  const char* name;
  const char* yaml;       // config text (file "test.yaml"); empty when `set` is used
  const char* set;        // a --set override, or nullptr
  int world_size;
  std::vector<const char*> expected;  // substrings of the message
};

class BadConfig : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, ErrorNamesFileLineAndKey) {
  const BadCase& bad = GetParam();
  try {
    Config c;
    apply_yaml_text(c, bad.yaml, "test.yaml");
    if (bad.set) apply_override(c, bad.set);
    resolve(c, bad.world_size);
    FAIL() << "no error for case " << bad.name;
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    for (const char* s : bad.expected) EXPECT_NE(message.find(s), std::string::npos) << "'" << s << "' not in: " << message;
  }
}

// Deeper than yaml-cpp's parser allows; its own message for that is "bad file".
const std::string kDeepNesting = "model:\n  G_ch: " + std::string(600, '[') + "\n";

const BadCase kBadCases[] = {
    {"unknown_key", "model:\n  G_chh: 96\n", nullptr, 1, {"test.yaml:2", "model.G_chh", "did you mean 'G_ch'"}},
    {"section_typo", "modle:\n  G_ch: 96\n", nullptr, 1, {"test.yaml:1", "unknown section 'modle'", "did you mean 'model'"}},
    {"wrong_type_int", "model:\n  G_ch: wide\n", nullptr, 1, {"test.yaml:2", "model.G_ch", "expected an integer", "'wide'"}},
    {"wrong_type_float_for_int", "train:\n  batch_size: 1.5\n", nullptr, 1, {"test.yaml:2", "train.batch_size", "integer"}},
    {"wrong_type_bool", "model:\n\n  hier: maybe\n", nullptr, 1, {"test.yaml:3", "model.hier", "boolean"}},
    {"wrong_type_number", "optim:\n  G_lr: fast\n", nullptr, 1, {"test.yaml:2", "optim.G_lr", "a number"}},
    {"list_for_scalar", "model:\n  G_ch: [1, 2]\n", nullptr, 1, {"test.yaml:2", "model.G_ch", "a list"}},
    {"negative_batch", "train:\n  batch_size: -4\n", nullptr, 1, {"test.yaml:2", "train.batch_size", ">= 1", "-4"}},
    {"zero_batch", "train:\n  batch_size: 0\n", nullptr, 1, {"test.yaml:2", "train.batch_size"}},
    {"non_divisible_global_batch", "train:\n  batch_size: 48\n  global_batch_size: 100\n", nullptr, 2,
     {"test.yaml:3", "train.global_batch_size", "not divisible", "48 x 2 = 96"}},
    {"global_batch_contradicts_accumulations",
     "train:\n  batch_size: 8\n  global_batch_size: 64\n  num_D_accumulations: 2\n", nullptr, 2,
     {"test.yaml:4", "train.num_D_accumulations", "contradicts", "accumulations 4"}},
    {"malformed_yaml", "model:\n  G_ch: 96\n   D_ch: [1, 2\n", nullptr, 1, {"test.yaml:3", "malformed YAML"}},
    {"nested_too_deep", kDeepNesting.c_str(), nullptr, 1, {"test.yaml:", "malformed YAML: nested more than", "levels deep"}},
    {"top_level_not_mapping", "- a\n- b\n", nullptr, 1, {"test.yaml:1", "top level must be a mapping"}},
    {"section_not_mapping", "model: 5\n", nullptr, 1, {"test.yaml:1", "model", "mapping"}},
    {"key_twice", "model:\n  G_ch: 8\n  D_ch: 8\n  G_ch: 16\n", nullptr, 1,
     {"test.yaml:4", "model.G_ch", "appears twice", "first at test.yaml:2"}},
    {"section_twice", "data:\n  dataset: C10\nmodel:\n  G_ch: 8\ndata:\n  shuffle: true\n", nullptr, 1,
     {"test.yaml:5", "section 'data' appears twice", "first at test.yaml:1"}},
    {"second_document", "model:\n  G_ch: 8\n---\nmodel:\n  G_ch: 16\n", nullptr, 1,
     {"test.yaml:4", "a second YAML document"}},
    {"key_is_a_list", "model:\n  ? [G_ch, D_ch]\n  : 8\n", nullptr, 1, {"test.yaml:2", "key name must be plain text", "a list"}},
    {"section_is_a_mapping", "? {model: 1}\n: 8\n", nullptr, 1, {"test.yaml:1", "section name must be plain text", "a mapping"}},
    {"hier_without_shared", "model:\n  hier: true\n", nullptr, 1, {"test.yaml:2", "model.hier", "G_shared"}},
    {"deep_without_hier", "model:\n  model: BigGANdeep\n", nullptr, 1, {"test.yaml:2", "model.model", "hier"}},
    {"unknown_model", "model:\n  model: BigGANn\n", nullptr, 1, {"test.yaml:2", "model.model", "did you mean 'BigGAN'"}},
    {"unknown_activation", "model:\n  G_nl: gelu\n", nullptr, 1, {"test.yaml:2", "model.G_nl", "relu, inplace_relu, ir"}},
    {"unknown_norm_style", "model:\n  norm_style: ln\n", nullptr, 1, {"test.yaml:2", "model.norm_style", "'ln'"}},
    {"unknown_init", "model:\n  D_init: kaiming\n", nullptr, 1, {"test.yaml:2", "model.D_init", "ortho"}},
    {"D_param_not_SN", "model:\n  D_param: none\n", nullptr, 1, {"test.yaml:2", "model.D_param"}},
    {"bad_attention_list", "model:\n  G_attn: 64x\n", nullptr, 1, {"test.yaml:2", "model.G_attn", "64x"}},
    {"attention_trailing_underscore", "model:\n  G_attn: 64_\n", nullptr, 1, {"test.yaml:2", "model.G_attn", "'64_'"}},
    {"attention_beyond_int", "model:\n  D_attn: 32_2147483648\n", nullptr, 1,
     {"test.yaml:2", "model.D_attn", "below 100000", "32_2147483648"}},
    {"unknown_dataset", "data:\n  dataset: I129_hdf5\n", nullptr, 1, {"test.yaml:2", "data.dataset", "did you mean 'I128_hdf5'"}},
    {"resolution_contradicts_dataset", "data:\n  dataset: C10\n  resolution: 64\n", nullptr, 1,
     {"test.yaml:3", "data.resolution", "32 px"}},
    {"custom_without_path", "data:\n  dataset: custom\n  resolution: 64\n  n_classes: 3\n", nullptr, 1,
     {"data.path (not set): dataset 'custom' needs data.path"}},
    {"custom_without_resolution", "data:\n  dataset: custom\n  path: a.h5\n  n_classes: 3\n", nullptr, 1,
     {"data.resolution (not set): dataset 'custom' needs data.resolution; it is read from data.path's file when that "
      "exists (a.h5 does not)"}},
    {"unsupported_resolution", "data:\n  dataset: custom\n  path: a.h5\n  resolution: 48\n  n_classes: 3\n", nullptr, 1,
     {"test.yaml:4", "data.resolution", "no architecture for 48 px"}},
    {"use_ema_without_ema", "train:\n  use_ema: true\n", nullptr, 1, {"test.yaml:2", "train.use_ema", "train.ema"}},
    {"diffaug_unknown_transform", "train:\n  diffaug: color,rotate\n", nullptr, 1,
     {"test.yaml:2", "train.diffaug", "'rotate' in 'color,rotate'", "color, translation, cutout"}},
    {"diffaug_twice", "train:\n  diffaug: cutout, cutout\n", nullptr, 1, {"test.yaml:2", "train.diffaug", "listed twice"}},
    {"diffaug_not_a_string", "train:\n  diffaug: [color]\n", nullptr, 1, {"test.yaml:2", "train.diffaug", "comma-separated"}},
    {"ema_decay_range", "train:\n  ema_decay: 1.5\n", nullptr, 1, {"test.yaml:2", "train.ema_decay", "[0, 1]"}},
    {"beta2_range", "optim:\n  G_B2: 1.0\n", nullptr, 1, {"test.yaml:2", "optim.G_B2"}},
    {"negative_lr", "optim:\n  D_lr: -0.1\n", nullptr, 1, {"test.yaml:2", "optim.D_lr", "> 0"}},
    // Beyond float32's range LibTorch said "value cannot be converted to type float without
    // overflow", naming no key; an adam_eps that is 0 in float32 gave NaN losses at iteration 1.
    {"lr_beyond_float32", "optim:\n  G_lr: 1.0e+300\n", nullptr, 1,
     {"test.yaml:2", "optim.G_lr", "must be at most 3.40282e+38 (float32's largest), got 1e+300"}},
    {"sn_eps_beyond_float32", "model:\n  SN_eps: 1.0e+39\n", nullptr, 1, {"test.yaml:2", "model.SN_eps", "float32's largest"}},
    {"adam_eps_zero_in_float32", "optim:\n  adam_eps: 1.0e-320\n", nullptr, 1,
     {"test.yaml:2", "optim.adam_eps", "must be at least 1.17549e-38 (float32's smallest normal)"}},
    {"sheet_too_wide", "sample:\n  samples_per_class: 100000\n", nullptr, 1,
     {"test.yaml:2", "sample.samples_per_class", "must be at most 1000 (images along a sheet's side), got 100000"}},
    {"interp_too_long", "sample:\n  interp_midpoints: 1001\n", nullptr, 1, {"test.yaml:2", "sample.interp_midpoints", "at most 1000"}},
    {"interp_too_tall", "sample:\n  interp_rows: 5000\n", nullptr, 1, {"test.yaml:2", "sample.interp_rows", "at most 1000"}},
    {"no_threads", "dist:\n  intra_op_threads: 0\n", nullptr, 1, {"test.yaml:2", "dist.intra_op_threads", ">= 1, got 0"}},
    {"unknown_lr_schedule", "optim:\n  lr_schedule: cosine\n", nullptr, 1,
     {"test.yaml:2", "optim.lr_schedule", "'cosine'", "constant, linear_decay"}},
    {"lr_decay_start_without_decay", "optim:\n  lr_decay_start: 500\n", nullptr, 1,
     {"test.yaml:2", "optim.lr_decay_start", "is 500", "'constant'", "linear_decay"}},
    {"lr_decay_without_total_iterations", "optim:\n  lr_schedule: linear_decay\n", nullptr, 1,
     {"test.yaml:2", "optim.lr_schedule", "needs train.total_iterations"}},
    {"lr_decay_start_negative", "optim:\n  lr_schedule: linear_decay\n  lr_decay_start: -1\n", nullptr, 1,
     {"test.yaml:3", "optim.lr_decay_start", ">= 0", "-1"}},
    {"lr_decay_start_past_the_run", "optim:\n  lr_schedule: linear_decay\n  lr_decay_start: 100\ntrain:\n  total_iterations: 100\n",
     nullptr, 1, {"test.yaml:3", "optim.lr_decay_start", "below train.total_iterations (100)", "got 100"}},
    {"cross_replica_and_mybn", "model:\n  cross_replica: true\n  mybn: true\n", nullptr, 1, {"test.yaml:3", "model.mybn"}},
    {"which_best", "ckpt:\n  which_best: KID\n", nullptr, 1, {"test.yaml:2", "ckpt.which_best", "IS, FID"}},
    {"best_fid_without_fid", "ckpt:\n  which_best: FID\neval:\n  no_fid: true\n", nullptr, 1,
     {"ckpt.which_best", "eval.no_fid"}},
    {"classifier_samples", "eval:\n  num_classifier_samples: 0\n", nullptr, 1,
     {"test.yaml:2", "eval.num_classifier_samples", ">= 2"}},
    {"test_at_descending", "eval:\n  test_at: [1200, 1150]\n", nullptr, 1,
     {"test.yaml:2", "eval.test_at", "ascending iterations, each once; got 1150 after 1200"}},
    {"test_at_twice", "eval:\n  test_at: [1150, 1150]\n", nullptr, 1, {"test.yaml:2", "eval.test_at", "got 1150 after 1150"}},
    {"test_at_zero", "eval:\n  test_at: [0, 5]\n", nullptr, 1, {"test.yaml:2", "eval.test_at", "start at 1, got 0"}},
    {"test_at_not_integers", "eval:\n  test_at: [1150, soon]\n", nullptr, 1, {"test.yaml:2", "eval.test_at", "integer", "'soon'"}},
    {"test_at_nested", "eval:\n  test_at: [[1150]]\n", nullptr, 1, {"test.yaml:2", "eval.test_at", "entry 0", "a nested list"}},
    {"test_at_mapping", "eval:\n  test_at: {a: 1}\n", nullptr, 1, {"test.yaml:2", "eval.test_at", "a list of integers", "a mapping"}},
    {"inception_flavour", "eval:\n  inception_flavour: tf\n", nullptr, 1, {"test.yaml:2", "eval.inception_flavour", "torchvision, fid"}},
    {"trunc_curves", "sample:\n  sample_trunc_curves: 0.5_1\n", nullptr, 1, {"test.yaml:2", "sample.sample_trunc_curves"}},
    {"trunc_curves_too_many", "sample:\n  sample_trunc_curves: 1e-9_1e-9_1\n", nullptr, 1,
     {"test.yaml:2", "sample.sample_trunc_curves", "makes 1e+09 values", "at most 1000"}},
    {"trunc_curves_infinite_end", "sample:\n  sample_trunc_curves: 0.5_0.5_inf\n", nullptr, 1,
     {"test.yaml:2", "sample.sample_trunc_curves", "0 < start <= end"}},
    {"logstyle", "log:\n  logstyle: '%3.3e'\n", nullptr, 1, {"test.yaml:2", "log.logstyle"}},
    {"bottom_width_not_4", "model:\n  bottom_width: 8\n", nullptr, 1, {"test.yaml:2", "model.bottom_width", "must be 4, got 8"}},
    {"hier_dim_z_too_small", "model:\n  G_shared: true\n  hier: true\n  dim_z: 3\n", nullptr, 1,
     {"test.yaml:4", "model.dim_z", "6 chunks"}},
    {"set_unknown_key", "", "train.batch_sise=3", 1, {"--set", "train.batch_sise", "did you mean 'batch_size'"}},
    {"set_unknown_section", "", "trian.batch_size=3", 1, {"--set", "unknown section 'trian'"}},
    {"set_without_equals", "", "train.batch_size", 1, {"--set train.batch_size", "section.key=value"}},
    {"set_wrong_type", "", "train.batch_size=big", 1, {"--set", "train.batch_size", "integer"}},
    {"experiment_name_with_slash", "paths:\n  experiment_name: a/b\n", nullptr, 1, {"test.yaml:2", "paths.experiment_name"}},
};

INSTANTIATE_TEST_SUITE_P(Cases, BadConfig, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& param_info) { return std::string(param_info.param.name); });

TEST(BadConfigFile, MissingFileNamesThePath) {
  try {
    load({"/nonexistent/biggan.yaml"}, {}, 1);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/biggan.yaml"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
}

TEST(BadConfigFile, ErrorInSecondFileNamesThatFile) {
  const std::string dir = ::testing::TempDir() + "/biggan_cfg_second";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/ok.yaml") << "train:\n  batch_size: 32\n";
  std::ofstream(dir + "/bad.yaml") << "# comment\ntrain:\n  seed: 1\n  num_D_stepz: 2\n";
  try {
    load({dir + "/ok.yaml", dir + "/bad.yaml"}, {}, 1);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("train.num_D_stepz"), std::string::npos) << e.what();
  }
}

TEST(ResolutionList, Parses) {
  EXPECT_TRUE(parse_resolution_list("0").empty());
  EXPECT_TRUE(parse_resolution_list("").empty());
  EXPECT_EQ(parse_resolution_list("16_32_64"), (std::vector<int>{16, 32, 64}));
  EXPECT_THROW(parse_resolution_list("16__32"), Error);
  EXPECT_THROW(parse_resolution_list("-16"), Error);
}

}  // namespace
}  // namespace biggan::config
