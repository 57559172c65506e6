#include "data/index_order.h"

#include <numeric>
#include <random>
#include <string>

#include "core/error.h"

namespace biggan::data {

namespace {
// splitmix64: mixes (seed, epoch, rank, world) into one generator seed.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

IndexOrder::IndexOrder(std::int64_t dataset_size, std::uint64_t seed, int rank, int world_size, std::int64_t batch_per_rank,
                 std::int64_t block_rows, std::int64_t window_blocks, bool shuffle)
    : size_(dataset_size),
      seed_(seed),
      rank_(rank),
      world_(world_size),
      batch_(batch_per_rank),
      block_rows_(block_rows),
      window_blocks_(window_blocks),
      shuffle_(shuffle) {
  if (batch_ < 1) throw Error("sampler: batch per rank must be >= 1");
  if (block_rows_ < 1 || window_blocks_ < 0) throw Error("sampler: block_rows must be >= 1 and window_blocks >= 0");
  if (epoch_length(world_) < batch_ * world_)
    throw Error("dataset of " + std::to_string(size_) + " images is smaller than one global batch of " +
                std::to_string(batch_ * world_));
}

std::pair<std::int64_t, std::int64_t> IndexOrder::shard(std::int64_t dataset_size, int rank, int world_size) {
  return {dataset_size * rank / world_size, dataset_size * (rank + 1) / world_size};
}

std::int64_t IndexOrder::epoch_length(std::int64_t world) const { return world * (size_ / world); }

std::int64_t IndexOrder::batches_per_epoch() const { return epoch_length(world_) / (batch_ * world_); }

const std::vector<std::int64_t>& IndexOrder::shard_order(int shard_rank) {
  auto it = orders_.find(shard_rank);
  if (it != orders_.end()) return it->second;
  const auto [first, last] = shard(size_, shard_rank, static_cast<int>(state_.epoch_world_size));
  std::mt19937_64 rng(mix(mix(mix(mix(seed_) ^ static_cast<std::uint64_t>(state_.epoch)) ^
                              static_cast<std::uint64_t>(shard_rank)) ^
                          static_cast<std::uint64_t>(state_.epoch_world_size)));
  // Fisher-Yates with our own index draws: std::shuffle's algorithm is not fixed by the standard.
  auto permute = [&](auto begin, auto end) {
    if (!shuffle_) return;
    for (auto n = static_cast<std::size_t>(end - begin); n > 1; --n) std::swap(begin[n - 1], begin[rng() % n]);
  };
  // File-aligned blocks clipped to the shard, in a random order.
  std::vector<std::pair<std::int64_t, std::int64_t>> blocks;
  for (std::int64_t b = first / block_rows_ * block_rows_; b < last; b += block_rows_)
    blocks.emplace_back(std::max(b, first), std::min(b + block_rows_, last));
  permute(blocks.begin(), blocks.end());
  const std::size_t per_window = window_blocks_ == 0 ? blocks.size() : static_cast<std::size_t>(window_blocks_);
  std::vector<std::int64_t> order;
  order.reserve(static_cast<std::size_t>(last - first));
  for (std::size_t w = 0; w < blocks.size(); w += per_window) {
    const std::size_t window_start = order.size();
    for (std::size_t k = w; k < std::min(blocks.size(), w + per_window); ++k)
      for (std::int64_t i = blocks[k].first; i < blocks[k].second; ++i) order.push_back(i);
    permute(order.begin() + static_cast<std::ptrdiff_t>(window_start), order.end());
  }
  return orders_.emplace(shard_rank, std::move(order)).first->second;
}

void IndexOrder::start_epoch(std::int64_t epoch) {
  state_.epoch = epoch;
  state_.position = 0;
  state_.epoch_world_size = world_;
  orders_.clear();
}

std::vector<std::int64_t> IndexOrder::next() {
  if (state_.epoch_world_size == 0) start_epoch(state_.epoch);
  const std::int64_t global_batch = batch_ * world_;
  if (state_.position + global_batch > epoch_length(state_.epoch_world_size)) start_epoch(state_.epoch + 1);
  const std::int64_t W = state_.epoch_world_size;
  const std::int64_t per_shard = size_ / W;
  std::vector<std::int64_t> out(static_cast<std::size_t>(batch_));
  for (std::int64_t j = 0; j < batch_; ++j) {
    const std::int64_t k = state_.position + j * world_ + rank_;
    const auto& order = shard_order(static_cast<int>(k % W));
    const std::int64_t within = k / W;
    if (within >= per_shard) throw Error("sampler: position outside the epoch (internal error)");
    out[static_cast<std::size_t>(j)] = order[static_cast<std::size_t>(within)];
  }
  state_.position += global_batch;
  state_.samples_seen += global_batch;
  return out;
}

void IndexOrder::restore(const IndexOrderState& state) {
  if (state.position < 0 || state.epoch < 0 || state.epoch_world_size < 0 ||
      (state.epoch_world_size > 0 && state.position > epoch_length(state.epoch_world_size)))
    throw Error("sampler state is inconsistent (epoch " + std::to_string(state.epoch) + ", position " +
                std::to_string(state.position) + ", epoch world size " + std::to_string(state.epoch_world_size) + ")");
  state_ = state;
  orders_.clear();
}

}  // namespace biggan::data
