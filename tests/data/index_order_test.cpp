// The sampler's promises: an epoch's shards cover the dataset exactly once, a restored state
// continues the same sequence, and a run resumed on another number of ranks neither skips nor
// repeats anything in the epoch.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "data/index_order.h"

namespace biggan::data {
namespace {

// One global step of W ranks: the union of their batches.
std::vector<std::int64_t> global_step(std::vector<IndexOrder>& ranks) {
  std::vector<std::int64_t> all;
  for (auto& s : ranks) {
    const auto b = s.next();
    all.insert(all.end(), b.begin(), b.end());
  }
  return all;
}

std::vector<IndexOrder> world(std::int64_t n, int W, std::int64_t b, std::uint64_t seed = 7) {
  std::vector<IndexOrder> ranks;
  for (int r = 0; r < W; ++r) ranks.emplace_back(n, seed, r, W, b);
  return ranks;
}

TEST(IndexOrder, OneEpochCoversEveryShardOnceAndOnlyItsOwnShard) {
  const std::int64_t n = 1003, b = 10;
  for (int W : {1, 2, 3, 4}) {
    auto ranks = world(n, W, b);
    std::multiset<std::int64_t> seen;
    for (std::int64_t step = 0; step < ranks[0].batches_per_epoch(); ++step)
      for (int r = 0; r < W; ++r) {
        const auto [first, last] = IndexOrder::shard(n, r, W);
        for (const auto i : ranks[static_cast<std::size_t>(r)].next()) {
          EXPECT_TRUE(i >= first && i < last) << "rank " << r << " read outside its shard";
          seen.insert(i);
        }
      }
    EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), seen.size()) << "duplicates, W=" << W;
    EXPECT_EQ(static_cast<std::int64_t>(seen.size()), (n / W) / b * b * W);
    EXPECT_EQ(ranks[0].state().epoch, 0);
    ranks[0].next();  // the next batch opens epoch 1
    EXPECT_EQ(ranks[0].state().epoch, 1);
  }
}

TEST(IndexOrder, BlockWindowsStayLocalAndStillCoverTheShard) {
  const std::int64_t n = 1000, b = 25, block = 40, window = 3;
  IndexOrder s(n, 5, 0, 1, b, block, window);
  std::set<std::int64_t> seen;
  for (std::int64_t step = 0; step < s.batches_per_epoch(); ++step) {
    const auto batch = s.next();
    seen.insert(batch.begin(), batch.end());
    // A window spans at most 3 blocks; a batch at most two windows.
    std::set<std::int64_t> blocks;
    for (const auto i : batch) blocks.insert(i / block);
    EXPECT_LE(blocks.size(), 2u * window) << step;
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IndexOrder, EpochsDifferAndDependOnTheSeed) {
  auto a = world(500, 1, 50, 1), b = world(500, 1, 50, 2);
  const auto first = a[0].next();
  EXPECT_NE(first, b[0].next());
  for (int i = 1; i < 10; ++i) a[0].next();
  EXPECT_NE(first, a[0].next());  // epoch 1 is another permutation
}

TEST(IndexOrder, RestoredStateContinuesBitForBit) {
  auto a = world(1000, 2, 16);
  for (int i = 0; i < 37; ++i) global_step(a);  // crosses an epoch boundary
  auto b = world(1000, 2, 16);
  for (int r = 0; r < 2; ++r) b[static_cast<std::size_t>(r)].restore(a[static_cast<std::size_t>(r)].state());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(global_step(a), global_step(b));
}

// Resume on another world size: same global sample count, the rest of the epoch exactly once.
void resume_across(int from, int to) {
  const std::int64_t n = 960, b_from = 24 / from, b_to = 24 / to;  // same global batch 24
  auto before = world(n, from, b_from);
  std::vector<std::int64_t> seen;
  for (int i = 0; i < 13; ++i) {
    const auto step = global_step(before);
    seen.insert(seen.end(), step.begin(), step.end());
  }
  const IndexOrderState saved = before[0].state();
  auto after = world(n, to, b_to);
  for (auto& s : after) s.restore(saved);
  while (true) {
    const auto step = global_step(after);
    if (after[0].state().epoch != 0) break;
    seen.insert(seen.end(), step.begin(), step.end());
  }
  std::set<std::int64_t> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << from << " -> " << to << ": repeated samples";
  EXPECT_EQ(static_cast<std::int64_t>(unique.size()), 960) << from << " -> " << to << ": skipped samples";
  EXPECT_EQ(after[0].state().samples_seen, 960 + 24);
  EXPECT_EQ(after[0].state().epoch_world_size, to);  // the new layout starts with the next epoch
}

TEST(IndexOrder, ResumeWithMoreOrFewerRanksLosesAndRepeatsNothing) {
  resume_across(1, 2);
  resume_across(2, 1);
  resume_across(2, 3);
}

TEST(IndexOrder, RejectsImpossibleSetups) {
  EXPECT_THROW(IndexOrder(10, 0, 0, 2, 8), Error);  // smaller than one global batch
  EXPECT_THROW(IndexOrder(10, 0, 0, 1, 0), Error);
  IndexOrder s(100, 0, 0, 1, 10);
  IndexOrderState bad;
  bad.position = 1000;
  bad.epoch_world_size = 1;
  EXPECT_THROW(s.restore(bad), Error);
}

}  // namespace
}  // namespace biggan::data
