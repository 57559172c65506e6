#include "config/module_options.h"

#include <filesystem>

#include "core/error.h"

namespace biggan::config {

model::GeneratorOptions generator_options(const Config& c) {
  const auto& m = c.model;
  const auto& d = c.derived;
  model::GeneratorOptions o;
  o.architecture = m.model;
  o.param = m.G_param;
  o.activation = m.G_nl;
  o.norm_style = m.norm_style;
  o.init = m.G_init;
  o.skip_init = m.skip_init;
  o.mybn = m.mybn;
  o.cross_replica = m.cross_replica;
  o.ch = m.G_ch;
  o.depth = m.G_depth;
  o.resolution = d.resolution;
  o.n_classes = d.n_classes;
  o.bottom_width = m.bottom_width;
  o.shared = m.G_shared;
  o.shared_dim = d.shared_dim;
  o.hier = m.hier;
  o.dim_z = d.dim_z;
  o.num_slots = d.num_slots;
  o.z_chunk_size = d.z_chunk_size;
  o.attention = d.G_attn;
  o.sn = {m.num_G_SVs, m.num_G_SV_itrs, m.SN_eps};
  o.layout = m.channels_last;
  o.fused_resampling = m.fused_resampling;
  o.BN_eps = m.BN_eps;
  return o;
}

model::DiscriminatorOptions discriminator_options(const Config& c) {
  const auto& m = c.model;
  model::DiscriminatorOptions o;
  o.architecture = m.model;
  o.activation = m.D_nl;
  o.init = m.D_init;
  o.skip_init = m.skip_init;
  o.ch = m.D_ch;
  o.depth = m.D_depth;
  o.wide = m.D_wide;
  o.resolution = c.derived.resolution;
  o.n_classes = c.derived.n_classes;
  o.attention = c.derived.D_attn;
  o.sn = {m.num_D_SVs, m.num_D_SV_itrs, m.SN_eps};
  o.layout = m.channels_last;
  o.fused_resampling = m.fused_resampling;
  return o;
}

metrics::EvaluationOptions evaluation_options(const Config& c, std::uint64_t seed) {
  metrics::EvaluationOptions o;
  o.num_images = c.eval.num_inception_images;
  o.batch_size = c.derived.G_batch_size;
  o.seed = seed;
  o.z_var = c.sample.z_var;
  o.truncation = c.sample.truncation;
  return o;
}

metrics::InceptionV3 configured_inception(const Config& c, const std::string& weights_in) {
  const auto flavour = c.eval.inception_flavour;
  const std::string weights = weights_in.empty() ? c.eval.inception_weights : weights_in;
  const std::string source = flavour == metrics::InceptionFlavour::fid
                                 ? "pt_inception-2015-12-05-6726825d.pth from "
                                   "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                                 : "inception_v3_google-0cc3c7bd.pth from https://download.pytorch.org/models/";
  if (weights.empty())
    throw Error("eval.inception_weights is not set: download " + source + " once and give its path (--set "
                "eval.inception_weights=FILE); eval.inception_flavour is " + metrics::to_string(flavour));
  if (!std::filesystem::exists(weights))
    throw Error(weights + ": no such Inception weights file (the " + metrics::to_string(flavour) + " flavour is " + source + ")");
  return metrics::load_inception(flavour, weights);
}

std::string inception_moments_path(const Config& c) {
  if (!c.eval.inception_moments.empty()) return c.eval.inception_moments;
  std::string name = c.data.dataset;
  const std::string suffix = "_hdf5";
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    name.resize(name.size() - suffix.size());
  return c.derived.data_root + "/" + name + "_inception_moments.h5";
}

std::optional<metrics::DatasetMoments> reference_moments(const Config& c, const std::string& path) {
  if (c.eval.no_fid) return std::nullopt;
  return metrics::load_dataset_moments(path.empty() ? inception_moments_path(c) : path);
}

std::string classifier_path(const Config& c) {
  if (!c.eval.classifier.empty()) return c.eval.classifier;
  std::string path = c.derived.dataset_path;
  const auto dot = path.rfind('.');
  if (dot != std::string::npos && path.find('/', dot) == std::string::npos) path = path.substr(0, dot);
  return path + "_classifier.h5";
}

}  // namespace biggan::config
