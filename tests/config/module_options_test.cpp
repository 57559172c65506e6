// The config's values reach the modules' option structs: each key lands in its field, and the
// derived values (hier chunks, shared_dim, attention lists) are the resolved ones.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/module_options.h"
#include "core/error.h"

namespace biggan::config {
namespace {

TEST(ModuleOptions, GeneratorAndDiscriminatorGetTheirOwnKeys) {
  const Config c = load({}, {"data.dataset=C10", "model.G_ch=24", "model.D_ch=40", "model.G_nl=ir", "model.D_nl=relu",
                             "model.G_init=N02", "model.D_init=xavier", "model.G_param=none", "model.norm_style=in",
                             "model.G_shared=true", "model.hier=true", "model.dim_z=130", "model.shared_dim=20",
                             "model.G_attn=16", "model.D_attn=8", "model.num_G_SVs=2", "model.num_D_SV_itrs=3",
                             "model.SN_eps=1e-6", "model.BN_eps=1e-4", "model.D_wide=false", "model.skip_init=true"},
                        1);
  const auto g = generator_options(c);
  EXPECT_EQ(g.architecture, model::Architecture::BigGAN);
  EXPECT_EQ(g.ch, 24);
  EXPECT_EQ(g.activation, model::Activation::ir);
  EXPECT_EQ(g.init, model::WeightInit::N02);
  EXPECT_EQ(g.param, model::Parameterization::none);
  EXPECT_EQ(g.norm_style, model::NormStyle::in);
  EXPECT_EQ(g.resolution, 32);
  EXPECT_EQ(g.n_classes, 10);
  EXPECT_TRUE(g.shared && g.hier && g.skip_init);
  EXPECT_EQ(g.num_slots, 4);  // 3 blocks at 32 px + 1
  EXPECT_EQ(g.z_chunk_size, 32);
  EXPECT_EQ(g.dim_z, 128);    // 130 rounded down to 4 chunks
  EXPECT_EQ(g.shared_dim, 20);
  EXPECT_EQ(g.attention, std::vector<int>{16});
  EXPECT_EQ(g.sn.num_svs, 2);
  EXPECT_DOUBLE_EQ(g.sn.eps, 1e-6);
  EXPECT_DOUBLE_EQ(g.BN_eps, 1e-4);

  const auto d = discriminator_options(c);
  EXPECT_EQ(d.ch, 40);
  EXPECT_EQ(d.activation, model::Activation::relu);
  EXPECT_EQ(d.init, model::WeightInit::xavier);
  EXPECT_FALSE(d.wide);
  EXPECT_EQ(d.attention, std::vector<int>{8});
  EXPECT_EQ(d.sn.num_itrs, 3);
  EXPECT_EQ(d.n_classes, 10);
}

TEST(ModuleOptions, EvaluationAndDefaultPaths) {
  const Config c = load({}, {"data.dataset=C10", "data.data_root=/data", "eval.num_inception_images=123",
                             "train.batch_size=7", "train.G_batch_size=9", "sample.z_var=0.5", "sample.truncation=0.8"},
                        1);
  const auto e = evaluation_options(c, 42);
  EXPECT_EQ(e.num_images, 123);
  EXPECT_EQ(e.batch_size, 9);  // G_batch_size
  EXPECT_EQ(e.seed, 42u);
  EXPECT_DOUBLE_EQ(e.z_var, 0.5);
  EXPECT_DOUBLE_EQ(e.truncation, 0.8);
  EXPECT_EQ(inception_moments_path(c), "/data/C10_inception_moments.h5");
  EXPECT_EQ(classifier_path(c), c.derived.dataset_path.substr(0, c.derived.dataset_path.rfind('.')) + "_classifier.h5");
  const Config no_fid = load({}, {"eval.no_fid=true", "ckpt.which_best=IS"}, 1);
  EXPECT_FALSE(reference_moments(no_fid).has_value());
  try {
    configured_inception(c);
    FAIL();
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("eval.inception_weights is not set"), std::string::npos) << err.what();
  }
}

}  // namespace
}  // namespace biggan::config
