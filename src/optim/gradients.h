// Clearing an optimizer's gradients before a step's backward passes.
#pragma once

#include <torch/torch.h>

namespace biggan::optim {

// Leaves every parameter of `optimizer` without a gradient (PyTorch 2's zero_grad(set_to_none=
// True)), where LibTorch 1.x's zero_grad() fills them with zeros. The first backward then stores
// its gradient in place of adding it to zeros: the same values (0 + g is g), but no zero-fill and
// no add per parameter tensor, each a kernel launch on a GPU, and the memory is free until then.
// A parameter that gets no gradient stays without one; the trainer gives it zeros before the
// step, as before.
void release_gradients(torch::optim::Optimizer& optimizer);

}  // namespace biggan::optim
