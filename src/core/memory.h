// How much host memory this process may still take before the kernel's OOM killer (or a Slurm
// job's memory cgroup) ends it. A model far too large for the machine is refused with this figure
// before it is built (train/memory_check.h): with overcommit, building it would not fail but
// fill memory for minutes until the process is killed without a word.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace biggan::core {

struct HostMemory {
  std::uint64_t available_bytes = 0;
  std::string source;  // what set the figure, for the message that quotes it
};

// MemAvailable plus SwapFree from /proc/meminfo, capped by the headroom of every memory cgroup
// the process sits in, up to the hierarchy's root: limit minus usage, not counting inactive file
// pages, which the kernel reclaims first (cgroup v2 memory.max and v1 memory.limit_in_bytes; a
// Slurm job's --mem is one). `root` stands for "/" in tests. Empty when /proc/meminfo cannot be
// read.
std::optional<HostMemory> available_host_memory(const std::string& root = "/");

// The most memory this process could ever hold: MemTotal plus SwapTotal, capped by the limit of
// every memory cgroup above it plus SwapTotal (a cgroup's swap adds at most that). With
// overcommit the kernel still hands out a single allocation larger than this, and the process is
// killed while filling it; cli/allocation_guard.h refuses such allocations instead. Empty when
// /proc/meminfo cannot be read.
std::optional<HostMemory> host_memory_ceiling(const std::string& root = "/");

// "5.2 TiB", "19.3 GiB", "412 MiB": binary units, three significant figures.
std::string format_bytes(double bytes);

}  // namespace biggan::core
