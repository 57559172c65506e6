// Choices: every enum-valued key parses from its names and prints its first name back, an
// unknown name is an error that lists the names (from the config file or a command option),
// and BigGAN-PyTorch's alias `ir` keeps its own name, so experiment names stay the original's.
#include <gtest/gtest.h>

#include "config/choices.h"
#include "config/config.h"
#include "core/error.h"

namespace biggan::config {
namespace {

template <class E>
void expect_round_trip() {
  const auto names = choice_names<E>();
  ASSERT_FALSE(names.empty());
  for (const auto& name : names) {
    const auto value = find_choice<E>(name);
    ASSERT_TRUE(value.has_value()) << name;
    EXPECT_EQ(find_choice<E>(choice_name(*value)), value) << name;
  }
  EXPECT_FALSE(find_choice<E>("no-such-value").has_value());
}

TEST(Choices, EveryNameParsesAndPrintsBack) {
  expect_round_trip<model::Architecture>();
  expect_round_trip<model::Parameterization>();
  expect_round_trip<model::Activation>();
  expect_round_trip<model::NormStyle>();
  expect_round_trip<model::WeightInit>();
  expect_round_trip<model::Precision>();
  expect_round_trip<model::MemoryLayout>();
  expect_round_trip<TrainFunction>();
  expect_round_trip<BestMetric>();
  expect_round_trip<StopSignal>();
  expect_round_trip<distributed::Backend>();
  expect_round_trip<metrics::InceptionFlavour>();
  expect_round_trip<logging::ProgressStyle>();
  expect_round_trip<logging::Level>();
}

TEST(Choices, TheAliasIrKeepsItsNameInTheConfigAndTheRunName) {
  const Config c = load({}, {"model.G_nl=ir", "model.D_nl=inplace_relu"}, 1);
  EXPECT_EQ(c.model.G_nl, model::Activation::ir);
  EXPECT_EQ(c.model.D_nl, model::Activation::inplace_relu);
  EXPECT_NE(c.derived.experiment_name.find("_Gnlir_Dnlinplace_relu_"), std::string::npos) << c.derived.experiment_name;
  EXPECT_NE(to_yaml(c).find("G_nl: \"ir\""), std::string::npos);
}

TEST(Choices, PrintedConfigLoadsBackToTheSameChoices) {
  const Config c = load({}, {"model.model=BigGANdeep", "model.hier=true", "model.G_shared=true", "model.norm_style=gn",
                             "ckpt.which_best=FID", "log.pbar=none", "dist.backend=mpi", "ckpt.stop_signal=TERM"},
                        1);
  Config back;
  apply_yaml_text(back, to_yaml(c), "<printed>");
  resolve(back, 1);
  EXPECT_EQ(back.model.model, model::Architecture::BigGANdeep);
  EXPECT_EQ(back.model.norm_style, model::NormStyle::gn);
  EXPECT_EQ(back.ckpt.which_best, BestMetric::FID);
  EXPECT_EQ(back.log.pbar, logging::ProgressStyle::none);
  EXPECT_EQ(back.dist.backend, distributed::Backend::mpi);
  EXPECT_EQ(back.ckpt.stop_signal, StopSignal::TERM);
  EXPECT_EQ(to_yaml(back), to_yaml(c));
}

TEST(Choices, AnUnknownValueFromTheCommandLineListsTheNames) {
  EXPECT_EQ(parse_choice<logging::ProgressStyle>("lines", "prepare-data --progress"), logging::ProgressStyle::lines);
  try {
    parse_choice<logging::ProgressStyle>("line", "prepare-data --progress");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "prepare-data --progress: unknown value 'line' (did you mean 'lines'?); expected one of: auto, "
                           "bar, lines, none");
  }
}

TEST(Choices, AnUnknownValueInAFileNamesFileLineAndKey) {
  Config c;
  try {
    apply_yaml_text(c, "log:\n  pbar: tqdm\n", "mine.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "mine.yaml:2");
    EXPECT_EQ(e.key(), "log.pbar");
    EXPECT_NE(std::string(e.what()).find("expected one of: auto, bar, lines, none"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace biggan::config

namespace biggan::config {
namespace {

// model.channels_last was a boolean (default true): configs that say true or false keep their
// meaning; the default is now auto.
TEST(Choices, ChannelsLastTakesAutoAndTheFormerBooleans) {
  EXPECT_EQ(Config{}.model.channels_last, model::MemoryLayout::automatic);
  Config c;
  apply_yaml_text(c, "model:\n  channels_last: true\n", "old.yaml");
  EXPECT_EQ(c.model.channels_last, model::MemoryLayout::nhwc);
  apply_yaml_text(c, "model:\n  channels_last: false\n", "old.yaml");
  EXPECT_EQ(c.model.channels_last, model::MemoryLayout::nchw);
  apply_yaml_text(c, "model:\n  channels_last: auto\n", "new.yaml");
  EXPECT_EQ(c.model.channels_last, model::MemoryLayout::automatic);
  try {
    apply_yaml_text(c, "model:\n  channels_last: nhwc\n", "mine.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "mine.yaml:2");
    EXPECT_EQ(e.key(), "model.channels_last");
    EXPECT_NE(std::string(e.what()).find("expected one of: auto, true, false"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace biggan::config
