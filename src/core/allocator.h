// The process's malloc. Every executable links jemalloc (BIGGAN_JEMALLOC, on by default) with
// freed memory kept for reuse: LibTorch's CPU tensors above 32 MB are otherwise fresh mmap'd
// pages from glibc on every allocation, and a training step paid for zeroing them in page faults
// (case B: 2.3 million minor faults in 2 iterations; 20-25% of the step, bench/README.md).
#pragma once

#include <string>

namespace biggan::core {

// "jemalloc 5.3.0-0-g... (dirty_decay_ms -1, muzzy_decay_ms -1)", or "glibc malloc" when built
// without jemalloc.
std::string allocator_description();

// True when built with jemalloc and its options keep freed pages (both decays -1): false when
// MALLOC_CONF in the environment turned the decay back on.
bool allocator_keeps_freed_memory();

}  // namespace biggan::core
