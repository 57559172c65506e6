// The guard on LibTorch's CPU allocator: an allocation beyond the machine's ceiling is refused
// with a message naming both sizes and LibTorch's ops pass the Error on; smaller ones, and the
// tensors allocated before the guard, live and die as before.
#include "cli/allocation_guard.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../error_of.h"
#include "core/error.h"
#include "core/memory.h"

namespace biggan::cli {
namespace {

using testing::error_of;

TEST(AllocationGuard, RefusesOnlyAboveTheCeilingAndSaysWhy) {
  EXPECT_NO_THROW(check_allocation(1024, 1024, "a test"));
  const std::string message = error_of([] { check_allocation(3ull << 30, 2ull << 30, "MemTotal + SwapTotal"); });
  EXPECT_EQ(message,
            "one tensor of 3.00 GiB is more than this machine can ever hold (2.00 GiB: MemTotal + SwapTotal): "
            "out of memory, refused before it could fill memory");
  // user_message adds the advice on what to make smaller.
  EXPECT_NE(user_message(Error(message)).find("a smaller train.batch_size"), std::string::npos);
}

TEST(AllocationGuard, InstalledItRefusesATensorLargerThanTheMachine) {
  const torch::Tensor before = torch::ones({1000});
  const std::uint64_t ceiling = guard_cpu_allocations();
  ASSERT_GT(ceiling, 0u) << "this machine's /proc/meminfo gave no ceiling";
  EXPECT_EQ(guard_cpu_allocations(), ceiling);  // once per process
  EXPECT_EQ(ceiling, core::host_memory_ceiling()->available_bytes);
  // 2x the ceiling in bytes: refused at once, not handed out by overcommit.
  const auto elements = static_cast<std::int64_t>(ceiling / 2);
  const std::string message = error_of([&] { (void)torch::empty({elements, 4}, torch::kFloat); });
  EXPECT_NE(message.find("is more than this machine can ever hold"), std::string::npos) << message;
  EXPECT_NE(message.find(core::format_bytes(static_cast<double>(elements) * 16)), std::string::npos) << message;
  // Allocations below it, and frees of tensors from before the guard, work as before.
  const torch::Tensor after = torch::ones({1000}) + before;
  EXPECT_EQ(after.sum().item<double>(), 2000.0);
}

}  // namespace
}  // namespace biggan::cli
