// The dataset table: one row per dataset name, replacing BigGAN-PyTorch's five parallel dicts
// (dset_dict, imsize_dict, root_dict, nclass_dict, classes_per_sheet_dict; utils.py).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace biggan::config {

struct DatasetInfo {
  std::string name;          // config value of data.dataset, also part of the experiment name
  int resolution;            // image side in pixels
  int n_classes;
  int classes_per_sheet;     // classes per sample sheet (save_and_sample, sample.py)
  std::string file;          // HDF5 file name under data.data_root
  std::string description;
};

const std::vector<DatasetInfo>& dataset_table();
std::optional<DatasetInfo> find_dataset(const std::string& name);
std::vector<std::string> dataset_names();

}  // namespace biggan::config
