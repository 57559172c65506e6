// The order in which the training data is read: deterministic, resumable, sharded over ranks.
//
// Epoch e is laid out for the world size W_e it started with: the file is cut into W_e
// contiguous shards, each rank permutes its shard with a generator seeded by
// (seed, epoch, rank, W_e), and the epoch's global sequence interleaves the shards:
//   S_e[k] = shard_{k mod W_e}[perm_{k mod W_e}[k div W_e]],  k < W_e * (smallest shard)
// A step of the global stream hands out B = b * W positions from the consumed count c; rank r
// takes positions c + j*W + r (j < b). With W == W_e that is exactly rank r's next b items of
// its own shard (in-memory shards and contiguous reads); a run resumed on another number of
// ranks continues the same sequence from the same c, so nothing in the epoch is skipped or
// repeated, and the new layout starts with the next epoch. The tail that does not fill a
// global batch is dropped, like the original's drop_last.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace biggan::data {

struct IndexOrderState {
  std::int64_t epoch = 0;
  std::int64_t position = 0;          // global positions of the epoch consumed so far
  std::int64_t epoch_world_size = 0;  // W_e; 0 before the first batch
  std::int64_t samples_seen = 0;      // global, over all epochs
  bool operator==(const IndexOrderState& o) const {
    return epoch == o.epoch && position == o.position && epoch_world_size == o.epoch_world_size &&
           samples_seen == o.samples_seen;
  }
};

class IndexOrder {
 public:
  IndexOrder(std::int64_t dataset_size, std::uint64_t seed, int rank, int world_size, std::int64_t batch_per_rank,
          std::int64_t block_rows = 1, std::int64_t window_blocks = 0 /* 0: the whole shard */,
          bool shuffle = true /* false: file order within each shard (data.shuffle) */);

  // Global dataset indices of this rank's next batch, in order.
  std::vector<std::int64_t> next();
  const IndexOrderState& state() const { return state_; }
  void restore(const IndexOrderState& state);

  // Rank r's contiguous shard [first, last) for world size W.
  static std::pair<std::int64_t, std::int64_t> shard(std::int64_t dataset_size, int rank, int world_size);
  // Global batches in an epoch laid out for this world size.
  std::int64_t batches_per_epoch() const;

 private:
  std::int64_t epoch_length(std::int64_t world) const;
  const std::vector<std::int64_t>& shard_order(int shard_rank);  // permuted global indices
  void start_epoch(std::int64_t epoch);

  std::int64_t size_;
  std::uint64_t seed_;
  int rank_, world_;
  std::int64_t batch_;
  std::int64_t block_rows_;
  std::int64_t window_blocks_;
  bool shuffle_;
  IndexOrderState state_;
  std::map<int, std::vector<std::int64_t>> orders_;  // per shard, for the current epoch
};

}  // namespace biggan::data
