#include "train/device_copy.h"

namespace biggan::train {

torch::Tensor to_device(const torch::Tensor& cpu, const torch::Device& device, torch::ScalarType type) {
  if (!device.is_cuda()) return cpu.to(device, type);
  return cpu.pin_memory().to(device, type, /*non_blocking=*/true);
}

}  // namespace biggan::train
