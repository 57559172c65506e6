// `biggan prepare-data`: a Source written as a dataset file (dataset_file.h) by all MPI ranks
// together. Ranks decode disjoint slices and write their hyperslabs collectively; the file is
// written under a temporary name and renamed only when complete.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>

#include "logging/progress.h"

namespace biggan::data {

// How `imgs` and `labels` are stored: BigGAN-PyTorch's make_hdf5.py writes none or, with
// --compression, LZF (HDF5 filter 32000, Debian's hdf5-plugin-lzf); gzip is HDF5's deflate.
enum class Compression { none, gzip, lzf };
Compression parse_compression(const std::string& text);
const char* compression_name(Compression c);

struct PrepareOptions {
  std::string source;  // fmnist | cifar10 | cifar100 | imagefolder
  std::string input;
  std::string output;
  int resolution = 0;  // 0: the source's native size (32 for Fashion-MNIST, padded)
  std::string split = "train";
  int chunk_size = 500;
  bool shuffle = true;
  std::int64_t seed = 0;
  // A fine-tuning subset: only these source classes, relabelled 0..k-1 in this order (the
  // source's labels are kept in `original_labels`); empty: every class.
  std::vector<int> classes;
  // A class-balanced subset: this many items of every kept class, drawn with `seed`; 0: all.
  std::int64_t per_class = 0;
  Compression compression = Compression::none;
  // Store what BigGAN-PyTorch's make_hdf5.py stores (data/biggan_pytorch_bytes.h) instead of
  // PIL's exact pixel values.
  bool biggan_pytorch_bytes = false;
  logging::ProgressStyle progress = logging::ProgressStyle::automatic;
};

struct PrepareReport {
  std::int64_t images = 0;
  std::int64_t skipped = 0;
  double seconds = 0;
};

PrepareReport prepare_dataset(const PrepareOptions& options, MPI_Comm comm);

}  // namespace biggan::data
