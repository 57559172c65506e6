// IS and FID of a generator, computed across ranks. Each rank featurises its share; the moments
// (sums of features and outer products) and the Inception Score's per-split sums are reduced
// with allreduce, so the result equals the single-process one and no rank gathers all logits.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <limits>

#include "distributed/collectives.h"
#include "metrics/dataset_moments.h"
#include "metrics/inception.h"
#include "metrics/inception_score.h"
#include "model/networks.h"

namespace biggan::metrics {

// Which samples an evaluation scores.
struct EvaluationOptions {
  std::int64_t num_images = 50000;  // at least this many, shared over the ranks (rounded up)
  std::int64_t batch_size = 50;
  std::uint64_t seed = 0;
  double z_var = 1.0;       // BigGAN-PyTorch's z ~ N(0, z_var)
  double truncation = 0.0;  // > 0: the true truncation trick, |z| resampled until <= threshold
};

struct GeneratorMetrics {
  InceptionScore inception_score;
  double FID = std::numeric_limits<double>::quiet_NaN();  // NaN: no dataset moments given
  std::int64_t samples = 0;
};

// Samples G (random classes, as BigGAN-PyTorch's sample function) and scores it. `data`:
// the dataset's moments for FID, or nullptr. Collective.
GeneratorMetrics evaluate_generator(model::Generator& G, InceptionV3& net, const DatasetMoments* data,
                                    const EvaluationOptions& options, distributed::Collectives& collectives);

}  // namespace biggan::metrics
