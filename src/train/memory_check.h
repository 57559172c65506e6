// Refusing, before anything is built or written, networks whose state alone cannot fit in the
// host memory this process may use. With the kernel's overcommit (and jemalloc's), building
// such a network does not fail: its init fills memory for minutes until the OOM killer ends the
// process without a message, or until a Slurm job's memory cgroup does.
#pragma once

#include "config/config.h"
#include "core/memory.h"

namespace biggan::train {

// The host memory the networks' state needs on each node: G's and D's weights and buffers, and,
// when training on the CPU, their gradients, Adam's two moments and G_ema; on a GPU only the
// networks as built on the host before they move. Activations come on top, so this is a lower
// bound. Throws ConfigError when the need of `ranks_on_node` ranks exceeds `available`, at the
// key (a width, dim_z, shared_dim, the class count, an SN vector count, BigGAN-deep's depth) whose usual value would
// shrink the need the most: a typo is usually one value.
void check_networks_fit(const config::Config& config, bool trains_on_cpu, int ranks_on_node,
                        const core::HostMemory& available);

}  // namespace biggan::train
