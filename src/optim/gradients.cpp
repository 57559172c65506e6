#include "optim/gradients.h"

namespace biggan::optim {

void release_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

}  // namespace biggan::optim
