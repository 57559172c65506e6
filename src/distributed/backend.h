// Which library carries the collectives (dist.backend). No torch, no MPI: the config names it.
#pragma once

namespace biggan::distributed {

// NCCL for CUDA tensors when built with it (automatic), MPI always (through a host copy for
// CUDA tensors), or NCCL required (an error where it cannot be had).
enum class Backend { automatic, mpi, nccl };

}  // namespace biggan::distributed
