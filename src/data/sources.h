// Inputs of `biggan prepare-data`: Fashion-MNIST idx files, CIFAR-10/100 binaries, and
// ImageFolder trees. Each yields N labelled items that can be decoded independently, so ranks
// decode disjoint slices.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image/image.h"

namespace biggan::data {

class Source {
 public:
  virtual ~Source() = default;
  virtual std::int64_t size() const = 0;
  virtual std::int64_t label(std::int64_t i) const = 0;
  // The item at `resolution` px, RGB. Throws Error naming the item when it cannot be decoded.
  virtual image::Image load(std::int64_t i, int resolution) const = 0;
  // Throws Error naming the item when it cannot be decoded; cheaper than load() (an ImageFolder
  // JPEG is decoded at 1/8 scale, which reads and checks all of its data).
  virtual void verify(std::int64_t i) const { (void)i; }
  virtual std::string describe(std::int64_t i) const = 0;  // a path, or "file#record"
  virtual const std::vector<std::string>& class_names() const = 0;
  // ImageFolder: drop items whose decoding fails (listed in `dropped`).
  virtual void drop(const std::vector<std::int64_t>& dropped) { (void)dropped; }
  virtual int native_resolution() const { return 0; }  // 0: varies
};

// kind: fmnist | cifar10 | cifar100 | imagefolder; split: train | test | all (not imagefolder).
std::unique_ptr<Source> open_source(const std::string& kind, const std::string& input, const std::string& split);

// BigGAN-PyTorch's CenterCropLongEdge then Resize: the centre square, then PIL's antialiased
// bilinear resize (image/resample.h). (Fashion-MNIST's 28 px are padded to 32 instead.)
image::Image to_resolution(const image::Image& in, int resolution);

}  // namespace biggan::data
