// Host draws to the step's device: values and dtype as a plain copy gives them.
#include <gtest/gtest.h>

#include "train/device_copy.h"

namespace biggan::train {
namespace {

TEST(DeviceCopy, GivesThePlainCopysValuesAndType) {
  const torch::Tensor draws = torch::randn({6, 5}).narrow(0, 2, 3);  // a view, as the D step's latents
  const std::vector<torch::Device> devices =
      torch::cuda::is_available() ? std::vector<torch::Device>{torch::kCPU, torch::kCUDA} : std::vector<torch::Device>{torch::kCPU};
  for (const auto& device : devices) {
    for (const auto type : {torch::kFloat32, torch::kFloat64}) {
      const torch::Tensor copy = to_device(draws, device, type);
      EXPECT_EQ(copy.device().type(), device.type());
      EXPECT_EQ(copy.scalar_type(), type);
      EXPECT_TRUE(torch::equal(copy.cpu(), draws.to(type)));  // .cpu() waits for a queued copy
    }
    const torch::Tensor labels = torch::arange(7, torch::kInt64);
    EXPECT_TRUE(torch::equal(to_device(labels, device, torch::kInt64).cpu(), labels));
  }
}

}  // namespace
}  // namespace biggan::train
