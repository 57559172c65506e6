#include "optim/adam.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using biggan::optim::AdamKernels;

// Parameters of the shapes BigGAN has (conv weights, one of them channels-last, linear weights,
// gains and biases), identical in both copies.
std::vector<torch::Tensor> make_parameters(std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> ps{
      torch::randn({16, 8, 3, 3}), torch::randn({16, 8, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast),
      torch::randn({32, 20}),      torch::randn({16}),
      torch::randn({1}),
  };
  for (auto& p : ps) p.set_requires_grad(true);
  return ps;
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().set_requires_grad(true));
  return out;
}

torch::optim::AdamOptions biggan_options() {
  return torch::optim::AdamOptions(2e-4).betas({0.0, 0.999}).eps(1e-6).weight_decay(0);
}

// Gradients for step `step`: the same in both copies; `skip` leaves one parameter without one.
void set_gradients(std::vector<torch::Tensor>& ps, int step, int skip = -1) {
  torch::manual_seed(1000 + step);
  for (std::size_t i = 0; i < ps.size(); ++i) {
    auto g = torch::randn(ps[i].sizes()) * static_cast<double>(i + 1);
    if (static_cast<int>(i) == skip) {
      ps[i].mutable_grad() = torch::Tensor();
      continue;
    }
    ps[i].mutable_grad() = g.contiguous(ps[i].suggest_memory_format());
  }
}

void expect_same(const torch::optim::Adam& a, const std::vector<torch::Tensor>& pa, const torch::optim::Adam& b,
                 const std::vector<torch::Tensor>& pb, const std::string& when) {
  ASSERT_EQ(a.state().size(), b.state().size()) << when;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << when << ": parameter " << i << " differs by "
                                            << (pa[i] - pb[i]).abs().max().item<double>();
    const auto ia = a.state().find(biggan::optim::state_key(pa[i]));
    const auto ib = b.state().find(biggan::optim::state_key(pb[i]));
    ASSERT_EQ(ia == a.state().end(), ib == b.state().end()) << when << ": parameter " << i;
    if (ia == a.state().end()) continue;
    const auto& sa = static_cast<const torch::optim::AdamParamState&>(*ia->second);
    const auto& sb = static_cast<const torch::optim::AdamParamState&>(*ib->second);
    EXPECT_EQ(sa.step(), sb.step()) << when << ": parameter " << i;
    EXPECT_TRUE(torch::equal(sa.exp_avg(), sb.exp_avg())) << when << ": exp_avg " << i;
    EXPECT_TRUE(torch::equal(sa.exp_avg_sq(), sb.exp_avg_sq())) << when << ": exp_avg_sq " << i;
    EXPECT_EQ(sa.exp_avg().suggest_memory_format(), pa[i].suggest_memory_format()) << when << ": layout " << i;
    EXPECT_EQ(sb.exp_avg().suggest_memory_format(), pb[i].suggest_memory_format()) << when << ": layout " << i;
  }
}

// The multi-tensor step is LibTorch's Adam, bit for bit, including a parameter that misses its
// gradient on one step (its step count falls behind the others', so its bias corrections differ).
TEST(Adam, TheMultiTensorStepIsLibTorchsAdamBitForBit) {
  auto reference = make_parameters(3);
  auto ours = copies(reference);
  torch::optim::Adam reference_optim(reference, biggan_options());
  torch::optim::Adam our_optim(ours, biggan_options());
  for (int step = 0; step < 6; ++step) {
    const int skip = step == 1 ? 2 : (step == 0 ? 4 : -1);
    set_gradients(reference, step, skip);
    set_gradients(ours, step, skip);
    biggan::optim::adam_step(reference_optim, AdamKernels::per_tensor);
    biggan::optim::adam_step(our_optim, AdamKernels::foreach);
    expect_same(reference_optim, reference, our_optim, ours, "step " + std::to_string(step));
    if (HasFailure()) return;
  }
  // The parameters moved: a step that did nothing would also be "identical".
  EXPECT_FALSE(torch::equal(ours[0], make_parameters(3)[0]));
}

// State that LibTorch's step made (or a checkpoint restored) carries on under the multi-tensor
// step and back, with a learning rate changed between steps as optim.lr_schedule does.
TEST(Adam, TheTwoStepsContinueEachOthersState) {
  auto reference = make_parameters(5);
  auto ours = copies(reference);
  torch::optim::Adam reference_optim(reference, biggan_options());
  torch::optim::Adam our_optim(ours, biggan_options());
  const std::vector<AdamKernels> ours_by_step{AdamKernels::per_tensor, AdamKernels::per_tensor, AdamKernels::foreach,
                                              AdamKernels::foreach, AdamKernels::per_tensor, AdamKernels::foreach};
  for (std::size_t step = 0; step < ours_by_step.size(); ++step) {
    const double lr = 2e-4 * (1.0 - 0.1 * step);
    for (auto* o : {&reference_optim, &our_optim})
      for (auto& g : o->param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
    set_gradients(reference, step);
    set_gradients(ours, step);
    reference_optim.step();
    biggan::optim::adam_step(our_optim, ours_by_step[step]);
    expect_same(reference_optim, reference, our_optim, ours, "step " + std::to_string(step));
    if (HasFailure()) return;
  }
}

TEST(Adam, RefusesWhatItDoesNotComputeByName) {
  auto ps = make_parameters(7);
  set_gradients(ps, 0);
  torch::optim::Adam amsgrad(ps, biggan_options().amsgrad(true));
  try {
    biggan::optim::adam_step(amsgrad, AdamKernels::foreach);
    FAIL() << "AMSGrad was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("amsgrad 1"), std::string::npos) << e.what();
  }
  torch::optim::Adam decay(ps, biggan_options().weight_decay(0.01));
  try {
    biggan::optim::adam_step(decay, AdamKernels::foreach);
    FAIL() << "weight decay was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("weight_decay 0.01"), std::string::npos) << e.what();
  }
  // Nothing was stepped.
  EXPECT_TRUE(torch::equal(ps[0], make_parameters(7)[0]));
}

}  // namespace
