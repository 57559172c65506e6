// LibTorch's CPU allocator behind a guard: one allocation larger than the machine could ever hold
// (core::host_memory_ceiling) is refused with an Error naming both sizes. Without it, with the
// kernel's overcommit and jemalloc's reserved mappings, such an allocation succeeds: the command
// then fills memory for minutes until the OOM killer ends it without a word (a typo such as
// `--set train.G_batch_size=100000000` for `biggan sample`, found by fuzzing). No torch header
// here: the executable's main installs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace biggan::cli {

// Throws Error when `bytes` is above `ceiling_bytes`; `ceiling_source` says where the ceiling
// comes from, for the message.
void check_allocation(std::size_t bytes, std::uint64_t ceiling_bytes, const std::string& ceiling_source);

// Puts a guard with this machine's ceiling in front of the current CPU allocator, once per
// process; where the ceiling cannot be read the allocator stays as it is. Returns the ceiling
// in bytes (0: no guard).
std::uint64_t guard_cpu_allocations();

}  // namespace biggan::cli
