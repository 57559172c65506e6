#include "metrics/inception.h"

#include <array>

#include "core/error.h"
#include "model/state_dict.h"

namespace biggan::metrics {

namespace F = torch::nn::functional;

namespace {

// Average pool 3x3/1/1 as the flavour has it: torchvision counts the zero padding, the TF port
// (pytorch-fid's FIDInception*) does not.
torch::Tensor pool3x3(const torch::Tensor& x, bool count_include_pad) {
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(1).padding(1).count_include_pad(count_include_pad));
}

// BasicConv2d from square or (height, width) kernel and padding sizes.
using Pair = std::array<std::int64_t, 2>;
BasicConv2d conv_bn(std::int64_t in, std::int64_t out, Pair kernel, std::int64_t stride = 1, Pair padding = {0, 0}) {
  return BasicConv2d(std::make_shared<BasicConv2dImpl>(in, out, torch::ExpandingArray<2>({kernel[0], kernel[1]}),
                                                       torch::ExpandingArray<2>(stride),
                                                       torch::ExpandingArray<2>({padding[0], padding[1]})));
}
BasicConv2d conv_bn(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1,
                    std::int64_t padding = 0) {
  return conv_bn(in, out, Pair{kernel, kernel}, stride, Pair{padding, padding});
}

struct InceptionA : MixedBlock {
  InceptionA(std::int64_t in, std::int64_t pool_features, bool tf) : tf_(tf) {
    branch1x1 = register_module("branch1x1", conv_bn(in, 64, 1));
    branch5x5_1 = register_module("branch5x5_1", conv_bn(in, 48, 1));
    branch5x5_2 = register_module("branch5x5_2", conv_bn(48, 64, 5, 1, 2));
    branch3x3dbl_1 = register_module("branch3x3dbl_1", conv_bn(in, 64, 1));
    branch3x3dbl_2 = register_module("branch3x3dbl_2", conv_bn(64, 96, 3, 1, 1));
    branch3x3dbl_3 = register_module("branch3x3dbl_3", conv_bn(96, 96, 3, 1, 1));
    branch_pool = register_module("branch_pool", conv_bn(in, pool_features, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return torch::cat({branch1x1(x), branch5x5_2(branch5x5_1(x)), branch3x3dbl_3(branch3x3dbl_2(branch3x3dbl_1(x))),
                       branch_pool(pool3x3(x, !tf_))},
                      1);
  }
  bool tf_;
  BasicConv2d branch1x1{nullptr}, branch5x5_1{nullptr}, branch5x5_2{nullptr}, branch3x3dbl_1{nullptr},
      branch3x3dbl_2{nullptr}, branch3x3dbl_3{nullptr}, branch_pool{nullptr};
};

struct InceptionB : MixedBlock {
  explicit InceptionB(std::int64_t in) {
    branch3x3 = register_module("branch3x3", conv_bn(in, 384, 3, 2));
    branch3x3dbl_1 = register_module("branch3x3dbl_1", conv_bn(in, 64, 1));
    branch3x3dbl_2 = register_module("branch3x3dbl_2", conv_bn(64, 96, 3, 1, 1));
    branch3x3dbl_3 = register_module("branch3x3dbl_3", conv_bn(96, 96, 3, 2));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return torch::cat({branch3x3(x), branch3x3dbl_3(branch3x3dbl_2(branch3x3dbl_1(x))), F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2))}, 1);
  }
  BasicConv2d branch3x3{nullptr}, branch3x3dbl_1{nullptr}, branch3x3dbl_2{nullptr}, branch3x3dbl_3{nullptr};
};

struct InceptionC : MixedBlock {
  InceptionC(std::int64_t in, std::int64_t c7, bool tf) : tf_(tf) {
    branch1x1 = register_module("branch1x1", conv_bn(in, 192, 1));
    branch7x7_1 = register_module("branch7x7_1", conv_bn(in, c7, 1));
    branch7x7_2 = register_module("branch7x7_2", conv_bn(c7, c7, {1, 7}, 1, {0, 3}));
    branch7x7_3 = register_module("branch7x7_3", conv_bn(c7, 192, {7, 1}, 1, {3, 0}));
    branch7x7dbl_1 = register_module("branch7x7dbl_1", conv_bn(in, c7, 1));
    branch7x7dbl_2 = register_module("branch7x7dbl_2", conv_bn(c7, c7, {7, 1}, 1, {3, 0}));
    branch7x7dbl_3 = register_module("branch7x7dbl_3", conv_bn(c7, c7, {1, 7}, 1, {0, 3}));
    branch7x7dbl_4 = register_module("branch7x7dbl_4", conv_bn(c7, c7, {7, 1}, 1, {3, 0}));
    branch7x7dbl_5 = register_module("branch7x7dbl_5", conv_bn(c7, 192, {1, 7}, 1, {0, 3}));
    branch_pool = register_module("branch_pool", conv_bn(in, 192, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    const auto dbl = branch7x7dbl_5(branch7x7dbl_4(branch7x7dbl_3(branch7x7dbl_2(branch7x7dbl_1(x)))));
    return torch::cat({branch1x1(x), branch7x7_3(branch7x7_2(branch7x7_1(x))), dbl, branch_pool(pool3x3(x, !tf_))}, 1);
  }
  bool tf_;
  BasicConv2d branch1x1{nullptr}, branch7x7_1{nullptr}, branch7x7_2{nullptr}, branch7x7_3{nullptr},
      branch7x7dbl_1{nullptr}, branch7x7dbl_2{nullptr}, branch7x7dbl_3{nullptr}, branch7x7dbl_4{nullptr},
      branch7x7dbl_5{nullptr}, branch_pool{nullptr};
};

struct InceptionD : MixedBlock {
  explicit InceptionD(std::int64_t in) {
    branch3x3_1 = register_module("branch3x3_1", conv_bn(in, 192, 1));
    branch3x3_2 = register_module("branch3x3_2", conv_bn(192, 320, 3, 2));
    branch7x7x3_1 = register_module("branch7x7x3_1", conv_bn(in, 192, 1));
    branch7x7x3_2 = register_module("branch7x7x3_2", conv_bn(192, 192, {1, 7}, 1, {0, 3}));
    branch7x7x3_3 = register_module("branch7x7x3_3", conv_bn(192, 192, {7, 1}, 1, {3, 0}));
    branch7x7x3_4 = register_module("branch7x7x3_4", conv_bn(192, 192, 3, 2));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return torch::cat({branch3x3_2(branch3x3_1(x)), branch7x7x3_4(branch7x7x3_3(branch7x7x3_2(branch7x7x3_1(x)))),
                       F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2))},
                      1);
  }
  BasicConv2d branch3x3_1{nullptr}, branch3x3_2{nullptr}, branch7x7x3_1{nullptr}, branch7x7x3_2{nullptr},
      branch7x7x3_3{nullptr}, branch7x7x3_4{nullptr};
};

// The last two blocks. Pool branch: torchvision averages counting the padding; the TF port
// averages without it in Mixed_7b and takes the maximum in Mixed_7c.
enum class PoolBranch { average, average_without_padding, maximum };

struct InceptionE : MixedBlock {
  InceptionE(std::int64_t in, PoolBranch pool) : pool_(pool) {
    branch1x1 = register_module("branch1x1", conv_bn(in, 320, 1));
    branch3x3_1 = register_module("branch3x3_1", conv_bn(in, 384, 1));
    branch3x3_2a = register_module("branch3x3_2a", conv_bn(384, 384, {1, 3}, 1, {0, 1}));
    branch3x3_2b = register_module("branch3x3_2b", conv_bn(384, 384, {3, 1}, 1, {1, 0}));
    branch3x3dbl_1 = register_module("branch3x3dbl_1", conv_bn(in, 448, 1));
    branch3x3dbl_2 = register_module("branch3x3dbl_2", conv_bn(448, 384, 3, 1, 1));
    branch3x3dbl_3a = register_module("branch3x3dbl_3a", conv_bn(384, 384, {1, 3}, 1, {0, 1}));
    branch3x3dbl_3b = register_module("branch3x3dbl_3b", conv_bn(384, 384, {3, 1}, 1, {1, 0}));
    branch_pool = register_module("branch_pool", conv_bn(in, 192, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    const auto b3 = branch3x3_1(x);
    const auto d3 = branch3x3dbl_2(branch3x3dbl_1(x));
    torch::Tensor pooled;
    if (pool_ == PoolBranch::maximum) pooled = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(1).padding(1));
    else pooled = pool3x3(x, pool_ == PoolBranch::average);
    return torch::cat({branch1x1(x), torch::cat({branch3x3_2a(b3), branch3x3_2b(b3)}, 1),
                       torch::cat({branch3x3dbl_3a(d3), branch3x3dbl_3b(d3)}, 1), branch_pool(pooled)},
                      1);
  }
  PoolBranch pool_;
  BasicConv2d branch1x1{nullptr}, branch3x3_1{nullptr}, branch3x3_2a{nullptr}, branch3x3_2b{nullptr},
      branch3x3dbl_1{nullptr}, branch3x3dbl_2{nullptr}, branch3x3dbl_3a{nullptr}, branch3x3dbl_3b{nullptr},
      branch_pool{nullptr};
};

// The auxiliary classifier: unused for metrics, registered so torchvision's file loads strictly.
struct InceptionAux : torch::nn::Module {
  InceptionAux(std::int64_t in, std::int64_t classes) {
    conv0 = register_module("conv0", conv_bn(in, 128, 1));
    conv1 = register_module("conv1", conv_bn(128, 768, 5));
    fc = register_module("fc", torch::nn::Linear(768, classes));
  }
  BasicConv2d conv0{nullptr}, conv1{nullptr};
  torch::nn::Linear fc{nullptr};
};

}  // namespace

std::string to_string(InceptionFlavour flavour) { return flavour == InceptionFlavour::fid ? "fid" : "torchvision"; }

BasicConv2dImpl::BasicConv2dImpl(std::int64_t in, std::int64_t out, torch::ExpandingArray<2> kernel,
                                 torch::ExpandingArray<2> stride, torch::ExpandingArray<2> padding) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out).eps(0.001)));
}

torch::Tensor BasicConv2dImpl::forward(const torch::Tensor& x) { return torch::relu(bn(conv(x))); }

InceptionV3Impl::InceptionV3Impl(InceptionFlavour flavour) : flavour_(flavour) {
  const bool tf = flavour == InceptionFlavour::fid;
  Conv2d_1a_3x3 = register_module("Conv2d_1a_3x3", conv_bn(3, 32, 3, 2));
  Conv2d_2a_3x3 = register_module("Conv2d_2a_3x3", conv_bn(32, 32, 3));
  Conv2d_2b_3x3 = register_module("Conv2d_2b_3x3", conv_bn(32, 64, 3, 1, 1));
  Conv2d_3b_1x1 = register_module("Conv2d_3b_1x1", conv_bn(64, 80, 1));
  Conv2d_4a_3x3 = register_module("Conv2d_4a_3x3", conv_bn(80, 192, 3));
  const auto add = [&](const std::string& name, std::shared_ptr<MixedBlock> block) {
    mixed_.push_back(register_module(name, std::move(block)));
  };
  add("Mixed_5b", std::make_shared<InceptionA>(192, 32, tf));
  add("Mixed_5c", std::make_shared<InceptionA>(256, 64, tf));
  add("Mixed_5d", std::make_shared<InceptionA>(288, 64, tf));
  add("Mixed_6a", std::make_shared<InceptionB>(288));
  add("Mixed_6b", std::make_shared<InceptionC>(768, 128, tf));
  add("Mixed_6c", std::make_shared<InceptionC>(768, 160, tf));
  add("Mixed_6d", std::make_shared<InceptionC>(768, 160, tf));
  add("Mixed_6e", std::make_shared<InceptionC>(768, 192, tf));
  if (!tf) register_module("AuxLogits", std::make_shared<InceptionAux>(768, num_classes()));
  add("Mixed_7a", std::make_shared<InceptionD>(768));
  add("Mixed_7b", std::make_shared<InceptionE>(1280, tf ? PoolBranch::average_without_padding : PoolBranch::average));
  add("Mixed_7c", std::make_shared<InceptionE>(2048, tf ? PoolBranch::maximum : PoolBranch::average));
  fc = register_module("fc", torch::nn::Linear(2048, num_classes()));
}

InceptionOutput InceptionV3Impl::forward_preprocessed(const torch::Tensor& input) {
  auto x = Conv2d_2b_3x3(Conv2d_2a_3x3(Conv2d_1a_3x3(input)));
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2));
  x = Conv2d_4a_3x3(Conv2d_3b_1x1(x));
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2));
  for (auto& block : mixed_) x = block->forward(x);
  InceptionOutput out;
  out.pool = x.mean({2, 3});
  out.logits = fc(out.pool);  // dropout is the identity at evaluation
  return out;
}

InceptionOutput InceptionV3Impl::forward(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3)
    throw Error("Inception expects (N, 3, H, W) images, got " + std::to_string(images.dim()) + " dimensions");
  torch::Tensor x = (images.to(torch::kFloat) + 1.0) / 2.0;  // [0, 1]
  const bool resize = x.size(2) != 299 || x.size(3) != 299;
  if (flavour_ == InceptionFlavour::torchvision) {
    // BigGAN-PyTorch's WrapInception: normalise first, then resize with align_corners=True.
    const auto mean = torch::tensor({0.485, 0.456, 0.406}, x.options()).view({1, 3, 1, 1});
    const auto std = torch::tensor({0.229, 0.224, 0.225}, x.options()).view({1, 3, 1, 1});
    x = (x - mean) / std;
    if (resize)
      x = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<std::int64_t>{299, 299})
                                .mode(torch::kBilinear).align_corners(true));
  } else {
    // pytorch-fid: resize in [0, 1] (align_corners=False), then scale to [-1, 1].
    if (resize)
      x = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<std::int64_t>{299, 299})
                                .mode(torch::kBilinear).align_corners(false));
    x = 2 * x - 1;
  }
  return forward_preprocessed(x);
}

InceptionV3 load_inception(InceptionFlavour flavour, const std::string& path) {
  InceptionV3 net(flavour);
  try {
    model::load_weights_file(*net, path, /*strict=*/true);
  } catch (const Error& e) {
    throw Error(path + ": not the " + to_string(flavour) + " Inception v3 weights (" + e.what() + ")");
  }
  net->eval();
  return net;
}

}  // namespace biggan::metrics
