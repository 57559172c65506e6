// The dataset file: BigGAN-PyTorch's HDF5 layout (make_hdf5.py), so an existing ILSVRC128.hdf5
// works unchanged, plus optional attributes and an `original_index` dataset that our
// preparation adds.
//
//   imgs            uint8 (N, 3, R, R), chunked along N
//   labels          int64 (N,)
//   original_index  int64 (N,)   only when the order was shuffled: the source position of each image
//   attributes (ours): format_version, resolution, n_classes, class_names (JSON list), source,
//                      options (JSON), shuffled (0/1), shuffle_seed
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace biggan::data {

constexpr int kDatasetFormatVersion = 1;

struct DatasetHeader {
  std::string path;
  std::int64_t size = 0;   // N
  int resolution = 0;      // R
  int format_version = 0;  // 0: a plain BigGAN-PyTorch file without our attributes
  int n_classes = -1;      // from the attribute; -1 when the file does not say
  std::vector<std::string> class_names;
  std::string source;
  std::string options_json;
  bool shuffled = false;
  std::int64_t shuffle_seed = -1;
  bool has_original_index = false;
  std::string compression;  // of imgs: "none", "gzip", "lzf" (BigGAN-PyTorch's --compression), ...
};

// Opens the file (serial driver, read-only) and checks the layout: datasets present, dtypes,
// ranks, shapes, N equal across datasets. Every error names the file and the dataset.
DatasetHeader inspect_dataset(const std::string& path);

// The labels, for range checks and class counts.
std::vector<std::int64_t> read_labels(const std::string& path);

// How many classes the file holds: its n_classes attribute (ours), or else the largest label + 1
// (a BigGAN-PyTorch file, whose labels are ImageFolder's class indices 0..K-1).
int class_count(const DatasetHeader& header);

// Checks the file against what the config expects. `min_images` is one global batch: a
// smaller file cannot give a single iteration.
void check_dataset_fits(const DatasetHeader& header, const std::vector<std::int64_t>& labels, int resolution,
                        int n_classes, std::int64_t min_images);

}  // namespace biggan::data
