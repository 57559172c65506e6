// Typed collectives on tensors: MPI for CPU tensors, NCCL for CUDA tensors when built with
// BIGGAN_WITH_NCCL (the NCCL unique id travels over MPI), and MPI through a host copy for
// CUDA tensors otherwise. Every failure throws with the rank and host, and main() aborts the job.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "distributed/backend.h"
#include "distributed/context.h"

namespace biggan::distributed {

enum class ReduceOp { sum, max, min };

// This rank's device: the GPU of its local rank (modulo the visible GPUs) when CUDA is
// available, with cuDNN's autotuner turned on, else the CPU. Training, sampling and evaluation
// all place their networks there.
torch::Device rank_device(const Context& context);

class Collectives {
 public:
  // `device` is where the training tensors live; a CUDA device sets up NCCL (when built).
  Collectives(const Context& context, const torch::Device& device, Backend backend = Backend::automatic);
  ~Collectives();
  Collectives(const Collectives&) = delete;
  Collectives& operator=(const Collectives&) = delete;

  int rank() const { return context_.rank(); }
  int world_size() const { return context_.world_size(); }
  const Context& context() const { return context_; }
  std::string backend() const;  // "mpi" | "nccl" | "none" (one rank, no explicit nccl)
  // Whether collectives do anything: more than one rank, or NCCL asked for on one.
  bool communicates() const;

  // In place; `tensor` must be contiguous.
  void allreduce_(torch::Tensor& tensor, ReduceOp op = ReduceOp::sum);
  void broadcast_(torch::Tensor& tensor, int root = 0);
  // Same-shaped tensors from every rank, stacked along a new first dimension.
  torch::Tensor allgather(const torch::Tensor& tensor);

 private:
  void mpi_allreduce(torch::Tensor& cpu, ReduceOp op);
  [[noreturn]] void fail(const std::string& what) const;

  const Context& context_;
  torch::Device device_;
  struct Nccl;
  std::unique_ptr<Nccl> nccl_;
};

// Sum across ranks with a backward that also sums: cross-replica BN's statistics reducer
// (SyncBatchNorm's math on plain tensor ops).
torch::Tensor differentiable_allreduce_sum(const torch::Tensor& tensor, Collectives& collectives);

// Flattens tensors into buckets of about `bucket_bytes`, one allreduce per bucket, then divides
// by the world size: gradients averaged so that the update equals the single-process one.
void average_across_ranks(const std::vector<torch::Tensor>& tensors, Collectives& collectives,
                          std::int64_t bucket_bytes = 32 << 20);

// Rank 0's parameters and buffers to every rank (at start and after a resume).
void broadcast_state(torch::nn::Module& module, Collectives& collectives);

// A tensor whose bits differ from rank 0's, and the ranks that hold a different one.
struct Divergence {
  std::string tensor;
  std::vector<int> ranks;
};
// The tensors (parameters and buffers) whose bits differ from rank 0's, at most `limit`, the
// same list on every rank. Compares 64-bit checksums: one broadcast, one allgather.
std::vector<Divergence> divergent_tensors(const torch::nn::Module& module, Collectives& collectives,
                                          std::size_t limit = 5);

}  // namespace biggan::distributed
