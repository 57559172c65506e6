// `biggan prepare-data`: a Source written as a dataset file (dataset_file.h) by all MPI ranks
// together. Ranks decode disjoint slices and write their hyperslabs collectively; the file is
// written under a temporary name and renamed only when complete.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>

#include "logging/progress.h"

namespace biggan::data {

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
  logging::ProgressStyle progress = logging::ProgressStyle::automatic;
};

struct PrepareReport {
  std::int64_t images = 0;
  std::int64_t skipped = 0;
  double seconds = 0;
};

PrepareReport prepare_dataset(const PrepareOptions& options, MPI_Comm comm);

}  // namespace biggan::data
