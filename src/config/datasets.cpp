#include "config/datasets.h"

namespace biggan::config {

const std::vector<DatasetInfo>& dataset_table() {
  // Every dataset is read from HDF5 (prepared by `biggan prepare-data`), so the ImageFolder
  // names (I128) and the HDF5 names (I128_hdf5) point at the same file. ILSVRC file names
  // are BigGAN-PyTorch's, so an existing ILSVRC128.hdf5 works unchanged.
  static const std::vector<DatasetInfo> table = {
      {"I32", 32, 1000, 50, "ILSVRC32.hdf5", "ImageNet at 32x32"},
      {"I32_hdf5", 32, 1000, 50, "ILSVRC32.hdf5", "ImageNet at 32x32"},
      {"I64", 64, 1000, 50, "ILSVRC64.hdf5", "ImageNet at 64x64"},
      {"I64_hdf5", 64, 1000, 50, "ILSVRC64.hdf5", "ImageNet at 64x64"},
      {"I128", 128, 1000, 20, "ILSVRC128.hdf5", "ImageNet at 128x128"},
      {"I128_hdf5", 128, 1000, 20, "ILSVRC128.hdf5", "ImageNet at 128x128"},
      {"I256", 256, 1000, 20, "ILSVRC256.hdf5", "ImageNet at 256x256"},
      {"I256_hdf5", 256, 1000, 20, "ILSVRC256.hdf5", "ImageNet at 256x256"},
      {"I512", 512, 1000, 20, "ILSVRC512.hdf5", "ImageNet at 512x512 (not in BigGAN-PyTorch)"},
      {"I512_hdf5", 512, 1000, 20, "ILSVRC512.hdf5", "ImageNet at 512x512 (not in BigGAN-PyTorch)"},
      {"C10", 32, 10, 10, "C10.hdf5", "CIFAR-10"},
      {"C100", 32, 100, 100, "C100.hdf5", "CIFAR-100"},
      {"FMNIST", 32, 10, 10, "FMNIST32.hdf5", "Fashion-MNIST padded to 32x32, RGB"},
      // Any other image set: data.resolution, data.n_classes and data.path must be given.
      {"custom", 0, 0, 0, "", "your own HDF5 file; set data.path, data.resolution and data.n_classes"},
  };
  return table;
}

std::optional<DatasetInfo> find_dataset(const std::string& name) {
  for (const auto& row : dataset_table())
    if (row.name == name) return row;
  return std::nullopt;
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  for (const auto& row : dataset_table()) names.push_back(row.name);
  return names;
}

}  // namespace biggan::config
