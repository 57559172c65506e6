// Images from given latents, in batches: what sheets, the training grid and `biggan generate`
// share.
#pragma once

#include <torch/torch.h>

#include "model/networks.h"

namespace biggan::sample {

// G(z, shared(y)) in eval or train mode as set by the caller, in batches, on G's device;
// returned on the CPU.
torch::Tensor generate(model::Generator& G, const torch::Tensor& z, const torch::Tensor& y, int batch_size);

}  // namespace biggan::sample
