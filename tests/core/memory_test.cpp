// The host memory figure the trainer's memory check compares against, read from a fake
// /proc and /sys/fs/cgroup under a temporary root.
#include "core/memory.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../temp_folder.h"

namespace biggan::core {
namespace {

class HostMemoryFiles : public testing::TempFolderTest {
 protected:
  void write(const std::string& relative, const std::string& text) {
    const auto path = dir / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  std::optional<HostMemory> read() { return available_host_memory(dir.string()); }
};

constexpr std::uint64_t GiB = 1024ull * 1024 * 1024;

TEST_F(HostMemoryFiles, MemAvailablePlusSwapFreeWithoutACgroupLimit) {
  write("proc/meminfo", "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   "
                        "20971520 kB\nSwapTotal:       2097152 kB\nSwapFree:        1048576 kB\n");
  write("proc/self/cgroup", "0::/\n");
  write("sys/fs/cgroup/memory.max", "max\n");
  write("sys/fs/cgroup/memory.current", "123456\n");
  const auto m = read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available_bytes, 21 * GiB);
  EXPECT_EQ(m->source, "MemAvailable + SwapFree in /proc/meminfo");
}

TEST_F(HostMemoryFiles, ASlurmJobsCgroupV2LimitCapsIt) {
  // A job step under a job with --mem=4G: the tighter limit sits one level up; inactive file pages
  // (reclaimable page cache) do not count as used.
  write("proc/meminfo", "MemAvailable:   104857600 kB\n");
  write("proc/self/cgroup", "0::/system.slice/slurmstepd.scope/job_7/step_0/user/task_0\n");
  const std::string job = "sys/fs/cgroup/system.slice/slurmstepd.scope/job_7";
  write(job + "/memory.max", std::to_string(4 * GiB) + "\n");
  write(job + "/memory.current", std::to_string(3 * GiB) + "\n");
  write(job + "/memory.stat", "anon 1073741824\nfile 2147483648\ninactive_file 1073741824\n");
  write(job + "/step_0/memory.max", "max\n");
  write(job + "/step_0/memory.current", std::to_string(2 * GiB) + "\n");
  const auto m = read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available_bytes, 2 * GiB);  // 4 - (3 - 1)
  EXPECT_EQ(m->source, "the memory cgroup's limit less its usage, " + (dir / job).string() + "/memory.max");
}

TEST_F(HostMemoryFiles, ACgroupV1MemoryLimitCapsIt) {
  write("proc/meminfo", "MemAvailable:   104857600 kB\nSwapFree:              0 kB\n");
  write("proc/self/cgroup", "9:cpu,cpuacct:/slurm/uid_1/job_7\n4:memory:/slurm/uid_1/job_7\n0::/\n");
  const std::string job = "sys/fs/cgroup/memory/slurm/uid_1/job_7";
  write(job + "/memory.limit_in_bytes", std::to_string(8 * GiB) + "\n");
  write(job + "/memory.usage_in_bytes", std::to_string(5 * GiB) + "\n");
  write(job + "/memory.stat", "cache 0\ninactive_file 0\ntotal_inactive_file 1073741824\n");
  write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  write("sys/fs/cgroup/memory/memory.usage_in_bytes", std::to_string(50 * GiB) + "\n");
  const auto m = read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available_bytes, 4 * GiB);  // 8 - (5 - 1)
}

TEST_F(HostMemoryFiles, AFullCgroupLeavesNothing) {
  write("proc/meminfo", "MemAvailable:   104857600 kB\n");
  write("proc/self/cgroup", "0::/job\n");
  write("sys/fs/cgroup/job/memory.max", "1000\n");
  write("sys/fs/cgroup/job/memory.current", "5000\n");
  const auto m = read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available_bytes, 0u);
}

TEST_F(HostMemoryFiles, UnreadableOrDamagedFilesGiveNoFigureOrAreSkipped) {
  EXPECT_FALSE(read());  // no /proc/meminfo
  write("proc/meminfo", "MemTotal: 1 kB\n");
  EXPECT_FALSE(read());  // no MemAvailable
  write("proc/meminfo", "MemAvailable:   1024 kB\n");
  write("proc/self/cgroup", "garbage\n0::/job\n");
  write("sys/fs/cgroup/job/memory.max", "lots\n");
  write("sys/fs/cgroup/job/memory.current", "\n");
  const auto m = read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available_bytes, 1024u * 1024);
}

// The ceiling no single allocation can pass: the machine's RAM and swap, or a cgroup's limit
// plus swap, whatever is in use now.
TEST_F(HostMemoryFiles, TheCeilingIsRamAndSwapOrACgroupsLimitPlusSwap) {
  write("proc/meminfo", "MemTotal:       25165824 kB\nMemAvailable:    1048576 kB\nSwapTotal:       2097152 kB\n"
                        "SwapFree:              0 kB\n");
  write("proc/self/cgroup", "0::/job/step\n");
  write("sys/fs/cgroup/memory.max", "max\n");
  auto m = host_memory_ceiling(dir.string());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available_bytes, 26 * GiB);  // usage does not lower it
  EXPECT_EQ(m->source, "MemTotal + SwapTotal in /proc/meminfo");
  write("sys/fs/cgroup/job/memory.max", std::to_string(4 * GiB) + "\n");
  write("sys/fs/cgroup/job/memory.current", std::to_string(4 * GiB) + "\n");
  write("sys/fs/cgroup/job/step/memory.max", std::to_string(6 * GiB) + "\n");
  m = host_memory_ceiling(dir.string());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available_bytes, 6 * GiB);  // the job's 4 + 2 of swap
  EXPECT_EQ(m->source, "the memory cgroup's limit, " + (dir / "sys/fs/cgroup/job").string() + "/memory.max, plus SwapTotal");
  // v1's "no limit" (near 2^63) plus swap must not wrap around to a small ceiling.
  write("proc/self/cgroup", "4:memory:/\n");
  write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(host_memory_ceiling(dir.string())->available_bytes, 26 * GiB);
  write("proc/meminfo", "MemAvailable:    1048576 kB\n");
  EXPECT_FALSE(host_memory_ceiling(dir.string()));  // no MemTotal
}

TEST(HostMemory, ThisMachineHasAFigure) {
  const auto m = available_host_memory();
  ASSERT_TRUE(m);
  EXPECT_GT(m->available_bytes, 0u);
}

TEST(FormatBytes, BinaryUnitsWithThreeFigures) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(22.84 * GiB), "22.8 GiB");
  EXPECT_EQ(format_bytes(166.0 * 1024 * GiB), "166 TiB");
  EXPECT_EQ(format_bytes(1.8e19), "15.6 EiB");
}

}  // namespace
}  // namespace biggan::core
