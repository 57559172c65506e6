// Adam's step over all of an optimizer's parameters at once, with the per-tensor state that
// torch::optim::Adam keeps (and checkpoints save): the same arithmetic in the same order, so
// bit-identical on the CPU, in eight multi-tensor operations instead of eight per parameter.
#pragma once

#include <torch/torch.h>

namespace biggan::optim {

// How an optimizer step is computed. `per_tensor` is LibTorch's own torch::optim::Adam::step,
// kept so the two can be measured against each other (biggan_bench_train --adam).
enum class AdamKernels { foreach, per_tensor };

// The key under which `optimizer.state()` holds a parameter's state (LibTorch 1.x keys by the
// TensorImpl pointer as text, 2.x by the pointer).
using StateKey = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;
StateKey state_key(const torch::Tensor& parameter);

// One step of torch::optim::Adam over every parameter that has a gradient, creating their state
// on first use as it does. Refuses what BigGAN does not use (AMSGrad, weight decay, sparse
// gradients) instead of computing it differently.
void adam_step(torch::optim::Adam& optimizer, AdamKernels kernels);

}  // namespace biggan::optim
