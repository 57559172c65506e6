// Fine-tuning: each class_init gives the expected rows, every class-indexed tensor is found in
// shared, non-shared and projection-D models, the architecture check names the setting, a
// pretrained state lands in a new run's networks, and FreezeD keeps D's lowest blocks fixed.
#include <gtest/gtest.h>

#include <set>

#include "ckpt/checkpoint.h"
#include "config/config.h"
#include "core/error.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "model/state_dict.h"
#include "train/finetune.h"
#include "train/gan_step.h"
#include "../error_of.h"
#include "../model/fixture_support.h"

namespace biggan::train {
namespace {

using testing::error_of;

config::Config tiny(int n_classes, std::vector<std::string> extra = {}) {
  std::vector<std::string> sets{"data.dataset=custom", "data.path=x.h5", "data.resolution=32",
                                "data.n_classes=" + std::to_string(n_classes), "model.G_ch=8", "model.D_ch=8",
                                "model.G_attn=0", "model.D_attn=0", "model.G_shared=true", "model.shared_dim=16",
                                "model.dim_z=32", "model.hier=true", "train.batch_size=4", "train.ema=true"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return config::load({}, sets, 1);
}

TEST(ClassRows, EachClassInitGivesTheExpectedRows) {
  const auto pretrained = torch::arange(5 * 3, torch::kFloat32).view({5, 3});
  const auto fresh = torch::full({2, 3}, -7.0f);
  using config::ClassInit;
  const auto one = initial_class_rows(pretrained, fresh, 0, ClassInit::map, {{4}, {1}}, "k");
  EXPECT_TRUE(torch::equal(one[0], pretrained[4]));
  EXPECT_TRUE(torch::equal(one[1], pretrained[1]));
  const auto several = initial_class_rows(pretrained, fresh, 0, ClassInit::map, {{0, 2}, {1, 3, 4}}, "k");
  EXPECT_TRUE(torch::allclose(several[0], (pretrained[0] + pretrained[2]) / 2));
  EXPECT_TRUE(torch::allclose(several[1], (pretrained[1] + pretrained[3] + pretrained[4]) / 3));
  const auto mean = initial_class_rows(pretrained, fresh, 0, ClassInit::mean, {}, "k");
  EXPECT_TRUE(torch::allclose(mean[0], pretrained.mean(0)));
  EXPECT_TRUE(torch::allclose(mean[1], pretrained.mean(0)));
  EXPECT_TRUE(torch::equal(initial_class_rows(pretrained, fresh, 0, ClassInit::random, {}, "k"), fresh));
  EXPECT_TRUE(torch::equal(initial_class_rows(pretrained, pretrained * 0, 0, ClassInit::copy, {}, "k"), pretrained));
  // Along dim 1 (an SN vector of class-space, or a transposed table).
  const auto cols = initial_class_rows(pretrained.t(), fresh.t(), 1, ClassInit::map, {{4}, {0}}, "k");
  EXPECT_TRUE(torch::equal(cols.select(1, 0), pretrained[4]));
}

TEST(ClassRows, BadMapsAndCopiesNameTheEntry) {
  const auto pretrained = torch::zeros({5, 3}), fresh = torch::zeros({2, 3});
  using config::ClassInit;
  EXPECT_NE(error_of([&] { initial_class_rows(pretrained, fresh, 0, ClassInit::map, {{1}, {2, 5}}, "shared.weight"); })
                .find("finetune.class_map entry 1: class 5 is out of range: SOURCE has 5 classes (shared.weight)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { initial_class_rows(pretrained, fresh, 0, ClassInit::map, {{1}}, "shared.weight"); })
                .find("finetune.class_map has 1 entries for 2 classes"),
            std::string::npos);
  EXPECT_NE(error_of([&] { initial_class_rows(pretrained, fresh, 0, ClassInit::copy, {}, "embed.weight"); })
                .find("embed.weight: class_init copy needs the same classes, but SOURCE has 5 and this run 2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { initial_class_rows(torch::zeros({5, 4}), fresh, 0, ClassInit::mean, {}, "k"); })
                .find("beyond the class dimension"),
            std::string::npos);
}

TEST(ClassRows, AutomaticIsCopyOnlyForTheSameClasses) {
  config::FinetuneConfig f;
  f.init_from = "pretrained/run";
  EXPECT_EQ(resolve_class_init(f, 10, 10), config::ClassInit::copy);
  const std::string message = error_of([&] { resolve_class_init(f, 10, 3); });
  for (const char* part : {"pretrained/run has 10 classes and this run 3", "map", "mean", "random"})
    EXPECT_NE(message.find(part), std::string::npos) << message;
  f.class_init = config::ClassInit::mean;
  EXPECT_EQ(resolve_class_init(f, 10, 3), config::ClassInit::mean);
}

TEST(ClassTensors, SharedNonSharedAndProjectionModelsAreCovered) {
  Gan shared(tiny(4), torch::kCPU);
  const auto g = class_indexed_tensors(*shared.G);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].key, "shared.weight");
  const auto d = class_indexed_tensors(*shared.D);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].key, "embed.weight");
  EXPECT_EQ(d[1].key, "embed.u0");
  EXPECT_EQ(d[1].dim, 1);

  Gan plain(tiny(4, {"model.G_shared=false", "model.hier=false"}), torch::kCPU);
  const auto keys = class_indexed_tensors(*plain.G);
  // Every ccbn of the 3 blocks (bn1, bn2) has a gain and a bias embedding: 12 tensors, each 4 rows.
  ASSERT_EQ(keys.size(), 12u);
  const auto sd = model::state_dict(*plain.G);
  for (const auto& k : keys) EXPECT_EQ(sd.at(k.key).size(0), 4) << k.key;
  std::size_t with_classes = 0;
  for (const auto& [key, t] : sd) with_classes += t.dim() == 2 && t.size(0) == 4 ? 1 : 0;
  EXPECT_EQ(with_classes, keys.size()) << "a class-indexed tensor was missed";
}

TEST(Architecture, DifferencesNameTheSettingAndBothValues) {
  const auto diff = architecture_differences(tiny(10, {"model.G_ch=16"}), tiny(3, {"model.G_nl=ir"}));
  ASSERT_EQ(diff.size(), 1u);  // classes and activations change no tensor's shape
  EXPECT_EQ(diff[0], "model.G_ch: 16 in SOURCE, 8 here");
  const auto more = architecture_differences(tiny(10, {"model.D_attn=16", "model.norm_style=in"}), tiny(10));
  ASSERT_EQ(more.size(), 2u);
  EXPECT_EQ(more[0], "model.D_attn: 16 in SOURCE, 0 here");
  EXPECT_EQ(more[1], "model.norm_style: in in SOURCE, bn here");
}

ckpt::Pretrained pretrained_from(const Gan& gan, const config::Config& c, bool with_ema) {
  ckpt::Pretrained p;
  p.path = "memory";
  p.config = c;
  p.config_source = "memory/state.json";
  p.G = model::state_dict(*gan.G);
  p.D = model::state_dict(*gan.D);
  if (with_ema) p.G_ema = model::state_dict(*gan.G_ema);
  return p;
}

TEST(StartFromPretrained, NewClassesComeFromTheMapAndEverythingElseFromSource) {
  torch::manual_seed(1);
  const auto source_config = tiny(10);
  Gan source(source_config, torch::kCPU);
  torch::NoGradGuard no_grad;
  for (auto& p : source.G_ema->parameters()) p.add_(0.5);  // a G_ema that differs from G
  const auto pretrained = pretrained_from(source, source_config, true);

  torch::manual_seed(2);
  const auto config = tiny(3, {"finetune.init_from=memory", "finetune.class_init=map", "finetune.class_map=[[7], [8, 9], 0]"});
  Gan run(config, torch::kCPU);
  start_from_pretrained(run, pretrained, config);
  const auto G = model::state_dict(*run.G), D = model::state_dict(*run.D), E = model::state_dict(*run.G_ema);
  const auto& src_shared = pretrained.G.at("shared.weight");
  EXPECT_TRUE(torch::equal(G.at("shared.weight")[0], src_shared[7]));
  EXPECT_TRUE(torch::allclose(G.at("shared.weight")[1], (src_shared[8] + src_shared[9]) / 2));
  EXPECT_TRUE(torch::equal(D.at("embed.weight")[2], pretrained.D.at("embed.weight")[0]));
  EXPECT_TRUE(torch::equal(E.at("shared.weight")[0], pretrained.G_ema.at("shared.weight")[7]));
  for (const auto& [key, t] : pretrained.G)
    if (key != "shared.weight") {
      EXPECT_TRUE(torch::equal(G.at(key), t)) << key;
    }
  for (const auto& [key, t] : pretrained.G_ema)
    if (key != "shared.weight") {
      EXPECT_TRUE(torch::equal(E.at(key), t)) << "G_ema " << key;
    }
  for (const auto& [key, t] : pretrained.D)
    if (key != "embed.weight" && key != "embed.u0") {
      EXPECT_TRUE(torch::equal(D.at(key), t)) << key;
    }
}

TEST(StartFromPretrained, WithoutAGEmaTheNewOneIsACopyOfG) {
  const auto config = tiny(10, {"finetune.init_from=memory"});
  Gan source(config, torch::kCPU);
  const auto pretrained = pretrained_from(source, config, false);
  torch::manual_seed(9);
  Gan run(config, torch::kCPU);
  start_from_pretrained(run, pretrained, config);
  for (const auto& [key, t] : model::state_dict(*run.G_ema)) EXPECT_TRUE(torch::equal(t, pretrained.G.at(key))) << key;
}

TEST(StartFromPretrained, RefusesAnotherArchitectureAndUnresolvedClasses) {
  const auto source_config = tiny(10, {"model.G_ch=16"});
  Gan source(source_config, torch::kCPU);
  const auto pretrained = pretrained_from(source, source_config, false);
  const auto config = tiny(10, {"finetune.init_from=memory"});
  Gan run(config, torch::kCPU);
  const std::string arch = error_of([&] { start_from_pretrained(run, pretrained, config); });
  EXPECT_NE(arch.find("model.G_ch: 16 in SOURCE, 8 here"), std::string::npos) << arch;

  const auto ten = tiny(10);
  Gan other(ten, torch::kCPU);
  const auto three = tiny(3, {"finetune.init_from=memory"});
  Gan small(three, torch::kCPU);
  const std::string classes = error_of([&] { start_from_pretrained(small, pretrained_from(other, ten, false), three); });
  EXPECT_NE(classes.find("set finetune.class_init to map"), std::string::npos) << classes;
}

// Adam state after one real iteration of SOURCE, as a checkpoint stores it.
ckpt::Pretrained trained_source(const config::Config& c) {
  torch::manual_seed(4);
  Gan gan(c, torch::kCPU);
  distributed::Collectives collectives(distributed::process_context(), torch::kCPU);
  const NoiseSource noise = [&](const MicroStep&, std::int64_t n) {
    return std::make_pair(torch::randn({n, 32}), torch::randint(0, c.derived.n_classes, {n}, torch::kInt64));
  };
  gan.train_mode();
  train_iteration(gan, c, torch::rand({8, 3, 32, 32}) * 2 - 1, torch::randint(0, c.derived.n_classes, {8}, torch::kInt64),
                  noise, collectives);
  auto p = pretrained_from(gan, c, true);
  p.G_optim = ckpt::adam_state(*gan.G_optim);
  p.D_optim = ckpt::adam_state(*gan.D_optim);
  return p;
}

TEST(StartFromPretrained, KeepOptimizerCarriesAdamStateAlsoPastFrozenBlocks) {
  const auto source_config = tiny(4);
  const auto source = trained_source(source_config);
  ASSERT_FALSE(source.D_optim.empty());
  const auto config = tiny(4, {"finetune.init_from=memory", "finetune.keep_optimizer=true", "finetune.freeze_D_blocks=1"});
  Gan run(config, torch::kCPU);
  start_from_pretrained(run, source, config);
  EXPECT_EQ(ckpt::adam_state(*run.G_optim).size(), source.G_optim.size());
  // D's optimizer holds the trainable parameters only: its state is SOURCE's for those, renumbered.
  const auto kept = ckpt::adam_state(*run.D_optim);
  const auto params = run.D->parameters();
  const auto& in_optimizer = run.D_optim->param_groups()[0].params();
  ASSERT_LT(in_optimizer.size(), params.size());
  std::size_t checked = 0;
  for (std::size_t i = 0, j = 0; i < params.size() && j < in_optimizer.size(); ++i) {
    if (params[i].unsafeGetTensorImpl() != in_optimizer[j].unsafeGetTensorImpl()) continue;
    const auto key = std::to_string(i) + ".exp_avg_sq", kept_key = std::to_string(j) + ".exp_avg_sq";
    ASSERT_TRUE(kept.count(kept_key)) << kept_key;
    EXPECT_TRUE(torch::equal(kept.at(kept_key), source.D_optim.at(key))) << key;
    ++checked, ++j;
  }
  EXPECT_EQ(checked, in_optimizer.size());

  const auto fewer = tiny(3, {"finetune.init_from=memory", "finetune.keep_optimizer=true", "finetune.class_init=mean"});
  Gan other(fewer, torch::kCPU);
  const std::string message = error_of([&] { start_from_pretrained(other, source, fewer); });
  EXPECT_NE(message.find("optimizer state of parameter"), std::string::npos) << message;
}

TEST(FreezeD, FrozenBlocksStayOutOfTheOptimizerAndDoNotMove) {
  const auto config = tiny(4, {"finetune.freeze_D_blocks=2", "train.num_D_steps=1"});
  torch::manual_seed(3);
  Gan gan(config, torch::kCPU);
  std::size_t frozen_params = 0;
  for (const auto& m : gan.D_frozen) frozen_params += m->parameters().size();
  ASSERT_GT(frozen_params, 0u);
  EXPECT_EQ(gan.D_optim->param_groups()[0].params().size(), gan.D->parameters().size() - frozen_params);
  model::StateDict before;
  for (const auto& [key, t] : model::state_dict(*gan.D)) before[key] = t.clone();
  distributed::Collectives collectives(distributed::process_context(), torch::kCPU);
  const NoiseSource noise = [](const MicroStep&, std::int64_t n) {
    return std::make_pair(torch::randn({n, 32}), torch::randint(0, 4, {n}, torch::kInt64));
  };
  for (int i = 0; i < 3; ++i) {
    gan.train_mode();
    train_iteration(gan, config, torch::rand({4, 3, 32, 32}) * 2 - 1, torch::randint(0, 4, {4}, torch::kInt64), noise,
                    collectives);
  }
  const auto after = model::state_dict(*gan.D);
  for (const auto& [key, t] : before) {
    const bool frozen = key.rfind("blocks.0.", 0) == 0 || key.rfind("blocks.1.", 0) == 0;
    if (frozen) {
      EXPECT_TRUE(torch::equal(t, after.at(key))) << key << " moved although frozen";
    } else if (key.find(".weight") != std::string::npos) {
      EXPECT_FALSE(torch::equal(t, after.at(key))) << key << " did not train";
    }
  }
  EXPECT_NE(error_of([&] { Gan too_many(tiny(4, {"finetune.freeze_D_blocks=9"}), torch::kCPU); })
                .find("finetune.freeze_D_blocks: 9 is more than D's 4 residual blocks"),
            std::string::npos);
}

// Both real BigGAN-PyTorch weights folders (zip and legacy torch.save) as SOURCE, into a run with
// 3 new classes: the architecture comes from their state_dict.pth, every other tensor carries over.
TEST(StartFromPretrained, BigGanPytorchFoldersWorkAsSource) {
  BIGGAN_REQUIRE_FIXTURES();
  for (const std::string format : {"zip", "legacy"}) {
    const auto source = ckpt::read_pretrained(testing::fixtures_dir() + "/bp_weights/" + format);
    ASSERT_TRUE(source.config.has_value()) << format;
    EXPECT_EQ(source.kind, ckpt::Pretrained::Kind::biggan_pytorch);
    EXPECT_FALSE(source.G_ema.empty());
    EXPECT_FALSE(source.D_optim.empty());
    auto config = testing::fixture_config("s128_ch8");
    config::apply_override(config, "data.dataset=custom");
    config::apply_override(config, "data.path=x.h5");
    config::apply_override(config, "data.resolution=128");
    config::apply_override(config, "data.n_classes=3");
    config::apply_override(config, "finetune.class_init=mean");
    config::apply_override(config, "train.ema=true");
    config::resolve(config, 1);
    Gan run(config, torch::kCPU);
    start_from_pretrained(run, source, config);
    const auto G = model::state_dict(*run.G);
    std::set<std::string> by_class;
    for (const auto& t : class_indexed_tensors(*run.G)) by_class.insert(t.key);
    ASSERT_FALSE(by_class.empty());
    for (const auto& [key, t] : source.G) {
      ASSERT_TRUE(G.count(key)) << key;
      if (by_class.count(key)) {
        EXPECT_EQ(G.at(key).size(0), 3) << key;
      } else {
        EXPECT_TRUE(torch::equal(G.at(key), t)) << format << " " << key;
      }
    }
    const auto expected_row = source.D.at("embed.weight").mean(0);
    EXPECT_TRUE(torch::allclose(model::state_dict(*run.D).at("embed.weight")[2], expected_row)) << format;
  }
}

}  // namespace
}  // namespace biggan::train
