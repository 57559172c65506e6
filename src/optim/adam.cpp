#include "optim/adam.h"

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace biggan::optim {

namespace {

// Parameters whose step shares its scalars (bias corrections) and whose tensors one multi-tensor
// kernel can take together (one device, one dtype).
struct StepGroup {
  std::int64_t step;
  torch::Device device;
  torch::ScalarType dtype;
  std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
};

StepGroup& group_for(std::vector<StepGroup>& groups, std::int64_t step, const torch::Tensor& p) {
  for (auto& g : groups)
    if (g.step == step && g.device == p.device() && g.dtype == p.scalar_type()) return g;
  groups.push_back(StepGroup{step, p.device(), p.scalar_type(), {}, {}, {}, {}});
  return groups.back();
}

// torch::optim::Adam::step's arithmetic, operation by operation, on lists of tensors.
void step_group(StepGroup& g, const torch::optim::AdamOptions& o) {
  const auto [beta1, beta2] = o.betas();
  const double bias_correction1 = 1 - std::pow(beta1, g.step);
  const double bias_correction2 = 1 - std::pow(beta2, g.step);
  at::_foreach_mul_(g.exp_avgs, beta1);
  at::_foreach_add_(g.exp_avgs, g.grads, 1 - beta1);
  at::_foreach_mul_(g.exp_avg_sqs, beta2);
  at::_foreach_addcmul_(g.exp_avg_sqs, g.grads, g.grads, 1 - beta2);
  auto denom = at::_foreach_sqrt(g.exp_avg_sqs);
  at::_foreach_div_(denom, std::sqrt(bias_correction2));
  at::_foreach_add_(denom, o.eps());
  at::_foreach_addcdiv_(g.params, g.exp_avgs, denom, -(o.lr() / bias_correction1));
}

// A template, so that only the branch of the LibTorch at hand is compiled.
template <typename Key>
Key key_of(const torch::Tensor& parameter) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << static_cast<const void*>(parameter.unsafeGetTensorImpl());
    return text.str();
  } else {
    return parameter.unsafeGetTensorImpl();
  }
}

}  // namespace

StateKey state_key(const torch::Tensor& parameter) { return key_of<StateKey>(parameter); }

void adam_step(torch::optim::Adam& optimizer, AdamKernels kernels) {
  if (kernels == AdamKernels::per_tensor) {
    optimizer.step();
    return;
  }
  torch::NoGradGuard no_grad;
  auto& state = optimizer.state();
  for (auto& param_group : optimizer.param_groups()) {
    const auto& options = static_cast<const torch::optim::AdamOptions&>(param_group.options());
    if (options.amsgrad() || options.weight_decay() != 0) {
      std::ostringstream what;
      what << "adam_step: AMSGrad and weight decay are not implemented by the multi-tensor step (amsgrad "
           << options.amsgrad() << ", weight_decay " << options.weight_decay() << ")";
      throw Error(what.str());
    }
    std::vector<StepGroup> groups;
    for (auto& p : param_group.params()) {
      if (!p.grad().defined()) continue;
      if (p.grad().is_sparse()) throw Error("adam_step: a sparse gradient (Adam takes dense ones only)");
      auto& slot = state[state_key(p)];
      if (!slot) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*slot);
      s.step(s.step() + 1);
      auto& g = group_for(groups, s.step(), p);
      g.params.push_back(p);
      g.grads.push_back(p.grad());
      g.exp_avgs.push_back(s.exp_avg());
      g.exp_avg_sqs.push_back(s.exp_avg_sq());
    }
    for (auto& g : groups) step_group(g, options);
  }
}

}  // namespace biggan::optim
