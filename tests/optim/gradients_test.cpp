#include "optim/gradients.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "optim/adam.h"

namespace {

// A conv (channels-last, as NHWC training keeps its weights) and a linear layer, the same in
// every copy made with the same seed.
struct Net {
  torch::nn::Conv2d conv;
  torch::nn::Linear linear;
  std::vector<torch::Tensor> parameters;
  torch::optim::Adam optimizer;

  explicit Net(std::uint64_t seed)
      : conv((torch::manual_seed(seed), torch::nn::Conv2dOptions(3, 8, 3).padding(1))),
        linear(8 * 6 * 6, 4),
        parameters(all_parameters()),
        optimizer(parameters, torch::optim::AdamOptions(2e-4).betas({0.0, 0.999}).eps(1e-6)) {
    torch::NoGradGuard no_grad;
    conv->weight.set_data(conv->weight.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  std::vector<torch::Tensor> all_parameters() {
    auto ps = conv->parameters();
    for (const auto& p : linear->parameters()) ps.push_back(p);
    return ps;
  }
  torch::Tensor loss(const torch::Tensor& x) {
    return linear(torch::relu(conv(x)).flatten(1)).pow(2).mean();
  }
};

// Two micro-batches per step, then Adam, as the trainer does with accumulations.
void train_step(Net& net, int step, bool release) {
  if (release) biggan::optim::release_gradients(net.optimizer);
  else net.optimizer.zero_grad();
  torch::manual_seed(100 + step);
  for (int micro = 0; micro < 2; ++micro) (net.loss(torch::randn({4, 3, 6, 6})) / 2).backward();
  biggan::optim::adam_step(net.optimizer, biggan::optim::AdamKernels::foreach);
}

// Released gradients give the numbers zeroed ones give, to the bit: the first backward's
// gradient is stored where it was added to zeros (0 + g is g), the second adds to it either way.
TEST(Gradients, ReleasedOrZeroedTheStepsAreTheSame) {
  // Both nets' convolutions on the same thread count. Without OMP_NUM_THREADS, a process's first
  // oneDNN convolution ran on OpenMP's default (both logical CPUs) and later ones on ATen's
  // (the physical cores, set when it first parallelises), so the first net's step 0 summed in
  // another order. The trainer sets its thread count before it runs anything.
  torch::set_num_threads(2);
  Net zeroed(7), released(7);
  for (int step = 0; step < 3; ++step) {
    train_step(zeroed, step, false);
    train_step(released, step, true);
    for (std::size_t i = 0; i < zeroed.parameters.size(); ++i) {
      EXPECT_TRUE(torch::equal(zeroed.parameters[i].grad(), released.parameters[i].grad()))
          << "step " << step << ", gradient " << i;
      EXPECT_TRUE(torch::equal(zeroed.parameters[i], released.parameters[i])) << "step " << step << ", parameter " << i;
    }
  }
  // Not vacuous: the steps moved the parameters.
  Net start(7);
  EXPECT_FALSE(torch::equal(start.parameters[0], released.parameters[0]));
}

TEST(Gradients, ReleaseLeavesEveryParameterWithoutAGradient) {
  Net net(3);
  train_step(net, 0, true);
  for (const auto& p : net.parameters) ASSERT_TRUE(p.grad().defined());
  biggan::optim::release_gradients(net.optimizer);
  for (std::size_t i = 0; i < net.parameters.size(); ++i)
    EXPECT_FALSE(net.parameters[i].grad().defined()) << "parameter " << i;
}

}  // namespace
