#include "data/loader.h"

#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <exception>

#include "core/crash_note.h"
#include "core/error.h"
#include "io/h5_tensors.h"

namespace biggan::data {

namespace {

std::uint64_t flip_seed(std::uint64_t seed, const IndexOrderState& s, int rank) {
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL ^ static_cast<std::uint64_t>(s.epoch) * 0xbf58476d1ce4e5b9ULL;
  x ^= static_cast<std::uint64_t>(s.position) * 0x94d049bb133111ebULL ^ static_cast<std::uint64_t>(rank);
  return x;
}

std::int64_t block_rows_for(const LoaderOptions& o, const DatasetHeader& h) {
  if (o.block_rows > 0) return o.block_rows;
  if (o.load_in_mem) return 1;
  const std::int64_t image_bytes = 3LL * h.resolution * h.resolution;
  return std::max<std::int64_t>(1, (std::int64_t{4} << 20) / image_bytes);
}

std::int64_t window_blocks_for(const LoaderOptions& o) {
  if (o.window_blocks > 0 || o.block_rows > 0) return o.window_blocks;
  return o.load_in_mem ? 0 : 16;
}

}  // namespace

torch::Tensor normalize_images(const torch::Tensor& uint8_images) {
  return uint8_images.to(torch::kFloat32).div_(127.5).sub_(1.0);
}

namespace {

// The dataset's header, refused when it cannot fill one iteration: said in the user's terms.
DatasetHeader inspect_for_training(const LoaderOptions& options, MPI_Comm comm) {
  DatasetHeader header = inspect_dataset(options.path);
  int world = 1;
  MPI_Comm_size(comm, &world);
  const std::int64_t per_iteration = options.batch_per_rank * world;
  if (header.size < per_iteration)
    throw Error(options.path + ": " + std::to_string(header.size) + " images, fewer than the " +
                std::to_string(per_iteration) + " real images one iteration takes (" +
                std::to_string(options.batch_per_rank) + " per rank: " + options.batch_per_rank_terms +
                (world > 1 ? ", x " + std::to_string(world) + " ranks" : std::string()) + ")");
  return header;
}

}  // namespace

Loader::Loader(const LoaderOptions& options, MPI_Comm comm)
    : options_(options),
      header_(inspect_for_training(options, comm)),
      rank_([&] { int r = 0; MPI_Comm_rank(comm, &r); return r; }()),
      world_([&] { int w = 1; MPI_Comm_size(comm, &w); return w; }()),
      order_(header_.size, options.seed, rank_, world_, options.batch_per_rank, block_rows_for(options, header_),
               window_blocks_for(options), options.shuffle) {
  block_rows_ = block_rows_for(options, header_);
  cache_capacity_ = static_cast<std::size_t>(2 * window_blocks_for(options) + 2);
  const auto labels = read_labels(options.path);
  check_dataset_fits(header_, labels, options.resolution, options.n_classes, options.batch_per_rank * world_);
  labels_ = torch::tensor(labels, torch::kInt64);

  const std::lock_guard<std::recursive_mutex> lock(io::hdf5_mutex());
  const core::ReadingFile reading(options.path);
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  file_ = H5Fopen(options.path.c_str(), H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  if (file_ < 0)
    throw Error(options.path + ": cannot open with the MPI-IO driver: " + io::hdf5_open_problem(options.path));
  imgs_ = H5Dopen2(file_, "imgs", H5P_DEFAULT);
  if (imgs_ < 0) throw Error(options.path + ":imgs: cannot open");

  if (options.load_in_mem) {
    const auto [first, last] = IndexOrder::shard(header_.size, rank_, world_);
    shard_first_ = first;
    shard_ = read_rows(first, last - first, /*collective=*/true);
  }
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  const std::lock_guard<std::recursive_mutex> lock(io::hdf5_mutex());
  if (imgs_ >= 0) H5Dclose(imgs_);
  // Closing a file opened through MPI-IO is collective. A rank that unwinds an error of its own
  // would wait in the close for ranks that are elsewhere (in an allreduce, a barrier), for ever;
  // it is on its way to main()'s MPI_Abort, which ends every rank, so the file stays open.
  if (file_ >= 0 && std::uncaught_exceptions() == 0) H5Fclose(file_);
}

void Loader::restore(const IndexOrderState& state) {
  if (started_) throw Error("loader: restore() after the first batch");
  order_.restore(state);
  consumed_ = state;
}

torch::Tensor Loader::read_rows(std::int64_t first, std::int64_t count, bool collective) {
  const auto R = static_cast<hsize_t>(header_.resolution);
  torch::Tensor out = torch::empty({count, 3, header_.resolution, header_.resolution}, torch::kUInt8);
  const std::lock_guard<std::recursive_mutex> lock(io::hdf5_mutex());
  const core::ReadingFile reading(options_.path);
  const hid_t file_space = H5Dget_space(imgs_);
  const hsize_t start[4] = {static_cast<hsize_t>(first), 0, 0, 0};
  const hsize_t extent[4] = {static_cast<hsize_t>(count), 3, R, R};
  H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, extent, nullptr);
  const hid_t mem_space = H5Screate_simple(4, extent, nullptr);
  const hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT);
  const herr_t rc = H5Dread(imgs_, H5T_NATIVE_UINT8, mem_space, file_space, dxpl, out.data_ptr());
  H5Pclose(dxpl);
  H5Sclose(mem_space);
  H5Sclose(file_space);
  if (rc < 0)
    throw Error(options_.path + ":imgs: read of rows " + std::to_string(first) + "+" + std::to_string(count) + " failed");
  return out;
}

torch::Tensor Loader::read_block(std::int64_t block) {
  const std::int64_t first = block * block_rows_;
  return read_rows(first, std::min(block_rows_, header_.size - first), /*collective=*/false);
}

torch::Tensor Loader::rows_from_blocks(const std::vector<std::int64_t>& indices) {
  std::vector<torch::Tensor> rows;
  rows.reserve(indices.size());
  for (const auto index : indices) {
    const std::int64_t block = index / block_rows_;
    auto it = std::find_if(block_cache_.begin(), block_cache_.end(), [&](const auto& e) { return e.first == block; });
    if (it == block_cache_.end()) {
      block_cache_.emplace_front(block, read_block(block));
      if (block_cache_.size() > cache_capacity_) block_cache_.pop_back();
    } else if (it != block_cache_.begin()) {
      block_cache_.splice(block_cache_.begin(), block_cache_, it);
    }
    rows.push_back(block_cache_.front().second[index - block * block_rows_]);
  }
  return torch::stack(rows);
}

Batch Loader::read_batch(const std::vector<std::int64_t>& indices, const IndexOrderState& after) {
  const auto index = torch::tensor(indices, torch::kInt64);
  torch::Tensor images;
  const auto [lo, hi] = std::minmax_element(indices.begin(), indices.end());
  if (shard_.defined() && *lo >= shard_first_ && *hi < shard_first_ + shard_.size(0)) {
    images = shard_.index_select(0, index - shard_first_);
  } else {
    // Streaming, or an epoch that began on another number of ranks.
    images = rows_from_blocks(indices);
  }
  Batch batch;
  batch.x = normalize_images(images);
  if (options_.hflip) {
    auto gen = at::detail::createCPUGenerator(flip_seed(options_.seed, after, rank_));
    const auto flip = torch::rand({batch.x.size(0)}, gen) < 0.5;
    batch.x = torch::where(flip.view({-1, 1, 1, 1}), batch.x.flip({3}), batch.x);
  }
  batch.y = labels_.index_select(0, index);
  if (options_.pin_memory && torch::cuda::is_available()) {
    batch.x = batch.x.pin_memory();
    batch.y = batch.y.pin_memory();
  }
  batch.after = after;
  batch.indices = indices;
  return batch;
}

void Loader::prefetch_loop() {
  try {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || static_cast<int>(queue_.size()) < options_.prefetch_batches; });
        if (stop_) return;
      }
      const auto indices = order_.next();
      Batch batch = read_batch(indices, order_.state());
      {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(batch));
      }
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    cv_.notify_all();
  }
}

void Loader::start_prefetch() {
  started_ = true;
  if (!shard_.defined()) thread_ = std::thread([this] { prefetch_loop(); });
}

Batch Loader::next() {
  if (!started_) start_prefetch();
  Batch batch;
  if (!thread_.joinable()) {
    const auto indices = order_.next();
    batch = read_batch(indices, order_.state());
  } else {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !queue_.empty() || error_; });
    if (queue_.empty() && error_) std::rethrow_exception(error_);
    batch = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    cv_.notify_all();
    wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  consumed_ = batch.after;
  return batch;
}

}  // namespace biggan::data
