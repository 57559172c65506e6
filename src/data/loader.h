// The training data loader: each rank reads only what its sampler gives it, through parallel
// HDF5 (MPI-IO driver).
//   - in memory (data.load_in_mem): the rank's contiguous shard, read once with one collective
//     hyperslab transfer;
//   - streaming: a background thread reads the next batches into a bounded queue. The sampler
//     walks the shard in windows of file-aligned blocks (index_order.h), and the thread reads whole
//     blocks (about 4 MiB each, one contiguous read) into a small cache, so every image is read
//     once per epoch in large reads. Transfers are independent so that the ranks' prefetchers
//     never wait for one another.
// Labels (8 bytes an image) are read whole by every rank at start.
#pragma once

#include <mpi.h>
#include <torch/torch.h>

#include <condition_variable>
#include <deque>
#include <list>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "data/dataset_file.h"
#include "data/index_order.h"

namespace biggan::data {

// uint8 images (N, 3, R, R) -> float in [-1, 1]: x / 127.5 - 1, BigGAN-PyTorch's
// ToTensor + Normalize(0.5, 0.5).
torch::Tensor normalize_images(const torch::Tensor& uint8_images);

struct LoaderOptions {
  std::string path;
  std::int64_t batch_per_rank = 0;  // batch_size x num_D_steps x num_D_accumulations
  // What batch_per_rank is made of, in the user's terms, for the message of a dataset too small.
  std::string batch_per_rank_terms = "batch_size x num_D_steps x num_D_accumulations";
  bool load_in_mem = false;
  bool hflip = false;
  bool shuffle = true;  // false: each shard in file order
  std::uint64_t seed = 0;
  int prefetch_batches = 4;
  // Index-order locality (index_order.h). 0: automatic, i.e. streaming uses blocks of about 4 MiB and
  // windows of 16 blocks, in memory a uniform permutation of the shard.
  std::int64_t block_rows = 0;
  std::int64_t window_blocks = 0;
  int resolution = 0;  // expected; checked against the file
  int n_classes = 0;
  // Batches in page-locked host memory, so that their copy to a GPU is asynchronous
  // (data.pin_memory). Only where CUDA is available; the CPU path has nothing to pin for.
  bool pin_memory = false;
};

struct Batch {
  torch::Tensor x;  // float (b, 3, R, R) in [-1, 1]
  torch::Tensor y;  // int64 (b,)
  std::vector<std::int64_t> indices;  // rows of the file, in batch order
  IndexOrderState after;  // the sampler state once this batch is consumed (what a checkpoint saves)
};

class Loader {
 public:
  // Collective over `comm`: every rank constructs (and destroys) its loader together.
  Loader(const LoaderOptions& options, MPI_Comm comm);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Must come before the first next(): continue exactly where a checkpoint stopped.
  void restore(const IndexOrderState& state);
  Batch next();
  // The state after the last batch handed out.
  const IndexOrderState& state() const { return consumed_; }

  const DatasetHeader& header() const { return header_; }
  std::int64_t batches_per_epoch() const { return order_.batches_per_epoch(); }
  // Seconds next() spent waiting for the prefetcher (streaming), summed since construction.
  double wait_seconds() const { return wait_seconds_; }

 private:
  Batch read_batch(const std::vector<std::int64_t>& indices, const IndexOrderState& after);
  // Rows [first, first + count) of imgs in one read; collective reads need every rank.
  torch::Tensor read_rows(std::int64_t first, std::int64_t count, bool collective);
  torch::Tensor read_block(std::int64_t block);
  torch::Tensor rows_from_blocks(const std::vector<std::int64_t>& indices);
  void prefetch_loop();
  void start_prefetch();

  LoaderOptions options_;
  DatasetHeader header_;
  int rank_ = 0;
  int world_ = 1;
  IndexOrder order_;
  IndexOrderState consumed_;
  torch::Tensor labels_;   // int64 (N,)
  torch::Tensor shard_;    // in memory: uint8 (shard size, 3, R, R)
  std::int64_t shard_first_ = 0;
  std::int64_t block_rows_ = 1;
  std::size_t cache_capacity_ = 4;
  std::list<std::pair<std::int64_t, torch::Tensor>> block_cache_;  // most recent first
  long long file_ = -1, imgs_ = -1;  // hid_t
  // Prefetch.
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  bool started_ = false;
  double wait_seconds_ = 0;
};

}  // namespace biggan::data
