#include "sample/generate.h"

#include <algorithm>
#include <vector>

namespace biggan::sample {

torch::Tensor generate(model::Generator& G, const torch::Tensor& z, const torch::Tensor& y, int batch_size) {
  torch::NoGradGuard no_grad;
  const auto device = G->parameters().front().device();
  std::vector<torch::Tensor> out;
  for (std::int64_t start = 0; start < z.size(0); start += batch_size) {
    const auto n = std::min<std::int64_t>(batch_size, z.size(0) - start);
    const auto zb = z.narrow(0, start, n).to(device);
    const auto yb = y.narrow(0, start, n).to(device);
    out.push_back(G->forward(zb, G->shared(yb)).to(torch::kCPU));
  }
  return torch::cat(out);
}

}  // namespace biggan::sample
