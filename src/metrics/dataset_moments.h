// A dataset's reference for FID: the Inception moments (pool3 mean and covariance) of every
// image and the dataset's own IS, computed across ranks and stored in our HDF5 or read from
// BigGAN-PyTorch's .npz.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "distributed/collectives.h"
#include "metrics/frechet.h"
#include "metrics/inception.h"
#include "metrics/inception_score.h"

namespace biggan::metrics {

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

// Every image of an HDF5 dataset once: rank r reads its contiguous shard in batches.
DatasetMoments compute_dataset_moments(InceptionV3& net, const std::string& dataset_path, std::int64_t batch_size,
                                       distributed::Collectives& collectives, bool show_progress);

}  // namespace biggan::metrics
