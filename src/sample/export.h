// Exporting samples for other tools: `count` images of random classes as numpy's .npz (x uint8
// N x 3 x H x W, y int64; BigGAN-PyTorch's samples.npz) and HDF5, generated across ranks.
#pragma once

#include <cstdint>
#include <string>

#include "distributed/collectives.h"
#include "model/networks.h"

namespace biggan::sample {

struct ExportOptions {
  std::int64_t count = 50000;
  std::int64_t batch_size = 64;
  std::uint64_t seed = 0;
  double z_var = 1.0;
  double truncation = 0.0;
  bool progress = false;
};

// [-1, 1] -> uint8 with rounding: round((x + 1) * 127.5), clamped. BigGAN-PyTorch truncates
// (uint8(255 * (x + 1) / 2)), which darkens every pixel by half a level on average.
torch::Tensor to_uint8(const torch::Tensor& images);

// Rank r generates its contiguous share into <folder>/.part<r>.h5; rank 0 joins the parts into
// <folder>/samples.npz and <folder>/samples.h5 (both atomic) and removes them. Collective.
// Returns the .npz path.
std::string export_samples(model::Generator& G, const std::string& folder, const ExportOptions& options,
                           distributed::Collectives& collectives);

}  // namespace biggan::sample
