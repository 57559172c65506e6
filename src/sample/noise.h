// Latents for sampling: BigGAN-PyTorch's z_var (which its Distribution uses as the *standard
// deviation* of normal_, despite the name), and the true truncation trick it lacks.
#pragma once

#include <torch/torch.h>

namespace biggan::sample {

// (n, dim_z) float32: N(0, 1) scaled by z_var; with truncation > 0, every entry with
// |z| > truncation is redrawn until it falls inside (a truncated standard normal), then scaled.
torch::Tensor sample_z(std::int64_t n, std::int64_t dim_z, double z_var, double truncation, at::Generator& gen);

}  // namespace biggan::sample
