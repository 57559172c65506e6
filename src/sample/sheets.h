// Sample sheets as PNG, like BigGAN-PyTorch's save_and_sample: the fixed-z grid, per-class
// sheets and the three interpolation sheets. Pixels map [-1, 1] -> [0, 255] with a fixed
// affine map and rounding (the original min-max normalises each grid, which hides drift).
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/networks.h"

namespace biggan::sample {

// images: (N, 3, H, W) in [-1, 1]; `columns` per row, 2 px black padding. Written atomically.
void write_grid(const std::string& path, const torch::Tensor& images, int columns);

struct SheetSettings {
  int classes_per_sheet = 10;
  int samples_per_class = 10;
  int interp_rows = 16;
  int interp_midpoints = 8;
  int batch_size = 64;
  std::uint64_t seed = 0;  // the noise of the sheets: the same every time, so sheets compare over training
  double z_var = 1.0;       // latents as sample_z draws them
  double truncation = 0.0;
  bool class_sheets = true;
  bool interpolations = true;
};

// Writes <folder>/samples<i>.png (one row per class) and, when G has a shared embedding, the
// interpolation sheets interpZY0.png (both move), interpZ0.png (the class stays, z moves) and
// interpY0.png (z stays, the class moves), BigGAN-PyTorch's names. Returns the files written.
std::vector<std::string> write_sheets(model::Generator& G, const std::string& folder, const SheetSettings& settings);

// A grid of `count` samples of random classes (BigGAN-PyTorch's random_samples), sqrt(count)
// columns.
void write_random_sheet(model::Generator& G, const std::string& path, int count, const SheetSettings& settings);

}  // namespace biggan::sample
