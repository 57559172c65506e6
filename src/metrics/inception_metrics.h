// IS and FID computed across ranks. Each rank featurises its share; the moments (sums of
// features and outer products) and the Inception Score's per-split sums are reduced with
// allreduce, so the result equals the single-process one and no rank gathers all logits.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "config/config.h"
#include "dist/collectives.h"
#include "metrics/frechet.h"
#include "metrics/inception.h"
#include "metrics/inception_score.h"
#include "model/networks.h"

namespace biggan::metrics {

// BigGAN-PyTorch's IS over `total` samples in global order: split k holds the samples with
// global index in [k * (total / splits), (k + 1) * (total / splits)); the rest is ignored.
// It keeps the per-split sums of inception_score.h, which add up over ranks.
class InceptionScoreAccumulator {
 public:
  InceptionScoreAccumulator(std::int64_t total, int splits);
  void add(const torch::Tensor& logits, std::int64_t global_offset);
  InceptionScore finalize(dist::Collectives& collectives) const;  // collective

 private:
  std::int64_t total_, chunk_;
  int splits_;
  torch::Tensor class_sums_, entropy_;  // float64 (splits, classes), (splits)
};

// The configured network: eval.inception_flavour with eval.inception_weights (or `weights`);
// a missing file is an error that says where to download it.
InceptionV3 load_configured_inception(const config::Config& config, const std::string& weights = "");

// A dataset's Inception moments (pool3 mean and covariance) and its own IS.
struct DatasetMoments {
  Moments moments;
  InceptionFlavour flavour = InceptionFlavour::torchvision;
  InceptionScore inception_score;
  std::string dataset;
};

// HDF5 (mu, sigma, count, flavour, IS) at `h5_path` and, when `npz_path` is not empty,
// BigGAN-PyTorch's .npz (mu float32, sigma float64). Both atomic.
void save_dataset_moments(const DatasetMoments& moments, const std::string& h5_path, const std::string& npz_path);
// Ours (.h5) or BigGAN-PyTorch's .npz (its flavour is torchvision's).
DatasetMoments load_dataset_moments(const std::string& path);
// eval.inception_moments, or <data_root>/<dataset>_inception_moments.h5.
std::string default_moments_path(const config::Config& config);

// The moments FID compares with: `path`, else default_moments_path(); none with eval.no_fid.
std::optional<DatasetMoments> load_reference_moments(const config::Config& config, const std::string& path = "");

// Every image of an HDF5 dataset once: rank r reads its contiguous shard in batches.
DatasetMoments compute_dataset_moments(InceptionV3& net, const std::string& dataset_path, std::int64_t batch_size,
                                       dist::Collectives& collectives, bool show_progress);

struct SampleOptions {
  std::int64_t num_images = 50000;  // at least this many, shared over the ranks (rounded up)
  std::int64_t batch_size = 50;
  std::uint64_t seed = 0;
  double z_var = 1.0;       // BigGAN-PyTorch's z ~ N(0, z_var)
  double truncation = 0.0;  // > 0: the true truncation trick, |z| resampled until <= threshold
};

// eval.num_inception_images at G_batch_size, with the sample.* latents.
SampleOptions sample_options(const config::Config& config, std::uint64_t seed);

struct GeneratorMetrics {
  InceptionScore inception_score;
  double FID = std::numeric_limits<double>::quiet_NaN();  // NaN: no dataset moments given
  std::int64_t samples = 0;
};

// {"IS_mean", "IS_std", "FID" (null when not computed), "samples"}.
nlohmann::json to_json(const GeneratorMetrics& metrics);

// One line of BigGAN-PyTorch's <experiment>_log.jsonl, key order and separators included (its
// MATLAB parser depends on them); FID 9999 stands for "not computed", as in the original.
std::string biggan_pytorch_test_log_line(std::int64_t itr, const GeneratorMetrics& metrics, double unix_time);

// Samples G (random classes, as BigGAN-PyTorch's sample function) and scores it. `data`:
// the dataset's moments for FID, or nullptr. Collective.
GeneratorMetrics evaluate_generator(model::Generator& G, const config::Config& config, InceptionV3& net,
                                    const DatasetMoments* data, const SampleOptions& options,
                                    dist::Collectives& collectives);

}  // namespace biggan::metrics
