// The one place that knows both the config and the modules' own option structs: each module
// (model, metrics) takes its options, never the whole Config, and these build them from the
// resolved config. Training and the commands call these; the modules do not know they exist.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"
#include "metrics/dataset_moments.h"
#include "metrics/evaluation.h"
#include "metrics/inception.h"
#include "model/options.h"

namespace biggan::config {

model::GeneratorOptions generator_options(const Config& config);
model::DiscriminatorOptions discriminator_options(const Config& config);

// eval.num_inception_images at G_batch_size, with the sample.* latents.
metrics::EvaluationOptions evaluation_options(const Config& config, std::uint64_t seed);

// eval.inception_flavour with eval.inception_weights (or `weights`); a missing file is an error
// that says where to download it.
metrics::InceptionV3 configured_inception(const Config& config, const std::string& weights = "");

// eval.inception_moments, or <data_root>/<dataset>_inception_moments.h5.
std::string inception_moments_path(const Config& config);
// The moments FID compares with: `path`, else inception_moments_path(); none with eval.no_fid.
std::optional<metrics::DatasetMoments> reference_moments(const Config& config, const std::string& path = "");

// eval.classifier, or <dataset>_classifier.h5 beside the dataset file.
std::string classifier_path(const Config& config);

}  // namespace biggan::config
