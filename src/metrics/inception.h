// Inception v3 for IS and FID, in two weight flavours that load their upstream state_dicts key
// for key (model::load_weights_file):
//  * torchvision: torchvision's ImageNet inception_v3 (1000 classes, with AuxLogits), the network
//    behind BigGAN-PyTorch's "PYTORCH UNOFFICIAL" numbers: [-1, 1] -> [0, 1] -> ImageNet
//    normalisation -> bilinear 299 with align_corners=True.
//    Weights: https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth
//  * fid: the PyTorch port of TensorFlow's 2015-12-05 Inception graph used by pytorch-fid and
//    published FIDs (1008 classes, no AuxLogits, count_include_pad=False average pools and a max
//    pool in the last block): [-1, 1] -> [0, 1] -> bilinear 299 (align_corners=False) -> [-1, 1].
//    Weights: https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
// Both give pool3 (the 2048-d spatial mean of Mixed_7c) and the logits of fc(pool3).
#pragma once

#include <torch/torch.h>

#include <string>

#include "metrics/inception_flavour.h"

namespace biggan::metrics {


// Conv (no bias) + BatchNorm (eps 0.001) + ReLU, named conv / bn as in torchvision.
struct BasicConv2dImpl : torch::nn::Module {
  BasicConv2dImpl(std::int64_t in, std::int64_t out, torch::ExpandingArray<2> kernel,
                  torch::ExpandingArray<2> stride = 1, torch::ExpandingArray<2> padding = 0);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(BasicConv2d);

struct InceptionOutput {
  torch::Tensor pool;    // (N, 2048)
  torch::Tensor logits;  // (N, 1000) or (N, 1008)
};

// One Mixed_* block; the concrete blocks are in inception.cpp.
struct MixedBlock : torch::nn::Module {
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};

class InceptionV3Impl : public torch::nn::Module {
 public:
  explicit InceptionV3Impl(InceptionFlavour flavour);
  // `images` in [-1, 1], (N, 3, H, W) at any size: the flavour's preprocessing, then the net.
  InceptionOutput forward(const torch::Tensor& images);
  // The network on already preprocessed (N, 3, 299, 299) input.
  InceptionOutput forward_preprocessed(const torch::Tensor& x);
  InceptionFlavour flavour() const { return flavour_; }
  std::int64_t num_classes() const { return flavour_ == InceptionFlavour::fid ? 1008 : 1000; }

 private:
  InceptionFlavour flavour_;
  BasicConv2d Conv2d_1a_3x3{nullptr}, Conv2d_2a_3x3{nullptr}, Conv2d_2b_3x3{nullptr}, Conv2d_3b_1x1{nullptr},
      Conv2d_4a_3x3{nullptr};
  std::vector<std::shared_ptr<MixedBlock>> mixed_;  // Mixed_5b ... Mixed_7c, in order
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(InceptionV3);

// Loads `path` (.pth state_dict of the flavour, or our .h5) strictly; a missing, extra or
// mis-shaped tensor is an error naming it.
InceptionV3 load_inception(InceptionFlavour flavour, const std::string& path);

}  // namespace biggan::metrics
