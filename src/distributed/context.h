// The MPI process context: RAII init/finalize, rank, world size, local rank (ranks sharing a
// node, from MPI's shared-memory split), host. Works as a singleton without mpirun.
// Collectives on tensors build on this (see dist/collectives.h).
#pragma once

#include <mpi.h>

#include <string>

namespace biggan::distributed {

class Context {
 public:
  // Initialises MPI unless something already did (tests own MPI_Init themselves).
  Context(int* argc, char*** argv);
  Context();
  // A context over a sub-communicator of an initialised MPI (tests: MPI_COMM_SELF as a 1-rank job).
  explicit Context(MPI_Comm comm);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  const std::string& host() const { return host_; }
  bool is_root() const { return rank_ == 0; }
  MPI_Comm comm() const { return comm_; }
  // MPI's thread level; MPI_THREAD_MULTIPLE lets background threads call MPI.
  int thread_level() const { return thread_level_; }

  void barrier() const;
  // Rank `root`'s string on every rank: decisions that all ranks must share (which checkpoint
  // to resume) are made once and sent, never made by each rank from what it sees.
  std::string broadcast(const std::string& value, int root = 0) const;
  // Ends every rank of the job: a failing rank must never leave the others hanging.
  [[noreturn]] void abort(int exit_code) const;

  // The live context, if any (for main()'s one catch).
  static const Context* current();

 private:
  void init(int* argc, char*** argv);
  void adopt(MPI_Comm comm);

  int rank_ = 0;
  int world_size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  int thread_level_ = 0;
  std::string host_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owns_mpi_ = false;
};

// The process's context, created on first use, so that `biggan --help` never starts MPI.
// Lives until shutdown_process_context(): main() calls that on success only, because
// MPI_Finalize is collective and would hang if one rank failed; on failure main() aborts.
Context& process_context();
void shutdown_process_context();

// MPI_Get_library_version, first line ("Open MPI v4.1.4, ...").
std::string mpi_library_version();

}  // namespace biggan::distributed
