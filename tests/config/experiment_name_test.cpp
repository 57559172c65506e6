// Experiment names equal BigGAN-PyTorch's name_from_config for its launch scripts (spec §9).
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/experiment_name.h"

namespace biggan::config {
namespace {

const std::string kConfigs = std::string(BIGGAN_SOURCE_DIR) + "/configs/";

std::string name_of(const std::string& file, int world_size = 1) {
  return load({kConfigs + file}, {}, world_size).derived.experiment_name;
}

TEST(ExperimentName, Defaults) {
  Config c;
  resolve(c, 1);
  EXPECT_EQ(c.derived.experiment_name,
            "BigGAN_I128_hdf5_seed0_Gch64_Dch64_bs64_nDs2_Glr5.0e-05_Dlr2.0e-04_Gnlrelu_Dnlrelu_Ginitortho_Dinitortho_"
            "Gattn64_Dattn64");
}

TEST(ExperimentName, LaunchScripts) {
  EXPECT_EQ(name_of("biggan128_bs256x8.yaml"),
            "BigGAN_I128_hdf5_seed0_Gch96_Dch96_bs256_nDa8_nGa8_Glr1.0e-04_Dlr4.0e-04_Gnlinplace_relu_Dnlinplace_relu_"
            "Ginitortho_Dinitortho_Gattn64_Dattn64_Gshared_hier_ema");
  EXPECT_EQ(name_of("biggan128_bs512x4.yaml"),
            "BigGAN_I128_hdf5_seed0_Gch96_Dch96_bs512_nDa4_nGa4_Glr1.0e-04_Dlr4.0e-04_Gnlinplace_relu_Dnlinplace_relu_"
            "Ginitortho_Dinitortho_Gattn64_Dattn64_Gshared_hier_ema");
  EXPECT_EQ(name_of("biggan128_ch64_bs256x8.yaml"),
            "BigGAN_I128_hdf5_seed0_Gch64_Dch64_bs256_nDa8_nGa8_Glr1.0e-04_Dlr4.0e-04_Gnlinplace_relu_Dnlinplace_relu_"
            "Ginitortho_Dinitortho_Gattn64_Dattn64_Gshared_hier_ema");
  EXPECT_EQ(name_of("biggandeep128_bs256x8.yaml"),
            "BigGAN_I128_hdf5_BigGANdeep_seed0_Gch128_Dch128_Gd2_Dd2_bs256_nDa8_nGa8_Glr1.0e-04_Dlr4.0e-04_"
            "Gnlinplace_relu_Dnlinplace_relu_Ginitortho_Dinitortho_Gattn64_Dattn64_Gshared_hier_ema");
  EXPECT_EQ(name_of("sagan128_bs128x2_ema.yaml"),
            "BigGAN_I128_hdf5_seed0_Gch64_Dch64_bs128_nDa2_nGa2_Glr1.0e-04_Dlr4.0e-04_Gnlrelu_Dnlrelu_Ginitxavier_"
            "Dinitxavier_Gattn64_Dattn64_ema_SAGAN_ema");
  EXPECT_EQ(name_of("sngan128.yaml"),
            "BigGAN_I128_hdf5_seed0_Gch64_Dch64_bs64_nDs5_Glr2.0e-04_Dlr2.0e-04_GBB0.900_DBB0.900_Gnlrelu_Dnlrelu_"
            "Ginitxavier_Dinitxavier_SNGAN");
  EXPECT_EQ(name_of("cifar10_ema.yaml"),
            "BigGAN_C10_seed0_Gch64_Dch64_bs50_nDs4_Glr2.0e-04_Dlr2.0e-04_Gnlrelu_Dnlrelu_GinitN02_DinitN02_ema");
}

TEST(ExperimentName, SameGlobalBatchSameNameAcrossRankCounts) {
  // 1 rank x 8 accumulations and 8 ranks x 1 accumulation train with the same global batch.
  EXPECT_EQ(name_of("biggan128_bs256x8.yaml", 1), name_of("biggan128_bs256x8.yaml", 8));
  EXPECT_EQ(name_of("biggan128_bs256x8.yaml", 1), name_of("biggan128_bs256x8.yaml", 2));
}

TEST(ExperimentName, OptionalComponents) {
  Config c;
  apply_yaml_text(c,
                  "model:\n  norm_style: in\n  G_ch: 32\n  G_depth: 3\n  G_precision: bf16\n  G_param: none\n"
                  "optim:\n  G_ortho: 1.0e-4\n  G_B1: 0.5\n",
                  "t.yaml");
  resolve(c, 1);
  const std::string n = c.derived.experiment_name;
  EXPECT_NE(n.find("_Gd3_"), std::string::npos) << n;
  EXPECT_NE(n.find("_Gbf16_"), std::string::npos) << n;
  EXPECT_NE(n.find("_GB0.500_"), std::string::npos) << n;
  EXPECT_NE(n.find("_Gnone_"), std::string::npos) << n;
  EXPECT_NE(n.find("_Gortho1.0e-04_"), std::string::npos) << n;
  EXPECT_NE(n.find("_in"), std::string::npos) << n;
}

TEST(ExperimentName, ExplicitNameWins) {
  const Config c = load({}, {"paths.experiment_name=mine", "paths.hashname=true"}, 1);
  EXPECT_EQ(c.derived.experiment_name, "mine");
  EXPECT_EQ(c.derived.run_dir, "runs/mine");
}

TEST(ExperimentName, HashNameIsStableAndDistinct) {
  const Config a = load({}, {"paths.hashname=true"}, 1);
  const Config b = load({}, {"paths.hashname=true"}, 1);
  EXPECT_EQ(a.derived.experiment_name, b.derived.experiment_name);
  const Config c = load({}, {"paths.hashname=true", "train.seed=1"}, 1);
  EXPECT_NE(a.derived.experiment_name, c.derived.experiment_name);
  // FNV-1a test vectors pin the hash across compilers and machines.
  EXPECT_EQ(stable_hash(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(stable_hash("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(hash_name("BigGAN_C10"), hash_name("BigGAN_C10"));
}

}  // namespace
}  // namespace biggan::config
