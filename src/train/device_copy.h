// CPU tensors drawn on the host (latents, DiffAugment's transforms) to the device a step runs on.
#pragma once

#include <torch/torch.h>

namespace biggan::train {

// `cpu` on `device` as `type`. To a GPU it goes through pinned memory and is queued behind the
// work already there: a copy from pageable memory makes LibTorch wait for the stream to drain
// (cudaMemcpyAsync, then cudaStreamSynchronize), and the host then launches nothing meanwhile.
// The pinned block is reused only after the copy (the caching host allocator records an event).
torch::Tensor to_device(const torch::Tensor& cpu, const torch::Device& device, torch::ScalarType type);

}  // namespace biggan::train
